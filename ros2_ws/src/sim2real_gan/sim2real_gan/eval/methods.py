"""Translation methods under evaluation: no translation, exported artifacts, checkpoints.

A method turns the sim frames of :class:`~sim2real_gan.eval.data.Sequences` into
translated frames (N,T,H,W,3) uint8. Styled generators hold one style code per
sequence (an episode), drawn from the N(0,I) prior with the sequence's index as the
seed (``style="per-sequence"``, the default), or one fixed style for all.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from tqdm import tqdm

from sim2real_gan.artifact import NET_RANGE, seed_style
from sim2real_gan.artifact.pixels import from_net, to_net
from sim2real_gan.io.run_dir import resolve_checkpoint

from .data import Sequences

__all__ = ["Method", "Identity", "ArtifactMethod", "CheckpointMethod", "load_method",
           "resolve_model_path"]


class Method(Protocol):
    name: str
    seconds: float  # wall time of the last translate() call

    def translate(self, seqs: Sequences, progress: bool = False) -> np.ndarray:
        """(N,T,H,W,3) uint8 translation of ``seqs.rgb['sim']``."""
        ...

    def describe(self) -> dict:
        """JSON-able description (kind, path, preset, style policy)."""
        ...


def _style_for(style: str | int, index: int) -> int | None:
    """Style seed of sequence ``index``; None = the model's default style."""
    if style == "per-sequence":
        return index
    if style == "default":
        return None
    return int(style)


def _check_style(style: str | int) -> str | int:
    if isinstance(style, int) or style in ("per-sequence", "default"):
        return style
    try:
        return int(style)
    except ValueError:
        raise ValueError(f"style: expected 'per-sequence', 'default' or an integer seed, "
                         f"got {style!r}") from None


class Identity:
    """The reference row: sim frames passed through unchanged."""

    def __init__(self, name: str = "no translation") -> None:
        self.name, self.seconds = name, 0.0

    def translate(self, seqs: Sequences, progress: bool = False) -> np.ndarray:
        return seqs.rgb["sim"].copy()

    def describe(self) -> dict:
        return {"kind": "identity"}


class ArtifactMethod:
    """An exported model artifact run through the runtime :class:`Translator`."""

    def __init__(self, name: str, path: str | Path, backend: str = "auto",
                 style: str | int = "per-sequence", size_mode: str = "native") -> None:
        from sim2real_gan.runtime import Translator

        self.name, self.path, self.backend, self.seconds = name, Path(path), backend, 0.0
        self.style, self.size_mode = _check_style(style), size_mode
        self.translator = Translator.from_artifact(self.path, backend=backend, size_mode=size_mode)

    def translate(self, seqs: Sequences, progress: bool = False) -> np.ndarray:
        tr, man = self.translator, self.translator.manifest
        wants = {a.name for a in man.aux}
        out = []
        start = time.perf_counter()
        for i in tqdm(range(seqs.shape[0]), desc=self.name, disable=not progress, leave=False):
            if man.style_dim:
                tr.set_style(_style_for(self.style, i))
            kw = {name: list(seqs.aux(name, self.name)[i]) for name in ("uv", "depth")
                  if name in wants}
            out.append(tr.translate_batch(seqs.rgb["sim"][i], **kw))
        self.seconds = time.perf_counter() - start
        return np.stack(out)

    def describe(self) -> dict:
        man = self.translator.manifest
        return {"kind": "artifact", "path": str(self.path), "backend": self.backend,
                "preset": man.preset, "style": self.style, "aux": [a.name for a in man.aux],
                "size_mode": self.size_mode}


class CheckpointMethod:
    """A generator checkpoint directory run in PyTorch (CPU)."""

    def __init__(self, name: str, path: str | Path, style: str | int = "per-sequence") -> None:
        from sim2real_gan.models import load_generator

        self.name, self.path, self.seconds = name, Path(path), 0.0
        self.style = _check_style(style)
        self.model, self.cfg = load_generator(self.path)

    def _style_code(self, index: int) -> torch.Tensor | None:
        if not self.cfg.style_dim:
            return None
        seed = _style_for(self.style, index)
        return torch.from_numpy(seed_style(0 if seed is None else seed, self.cfg.style_dim))

    def _aux(self, seqs: Sequences, i: int) -> torch.Tensor | None:
        parts = []
        for name in self.cfg.aux_channels:
            if name == "uv":
                parts.append(torch.from_numpy(seqs.aux("uv", self.name)[i]).permute(0, 3, 1, 2))
            elif name == "depth":
                parts.append(torch.from_numpy(seqs.aux("depth", self.name)[i])[:, None])
            else:
                raise ValueError(f"checkpoint {self.path}: unknown aux input {name!r}")
        return torch.cat(parts, dim=1).float() if parts else None

    @torch.no_grad()
    def translate(self, seqs: Sequences, progress: bool = False) -> np.ndarray:
        n, t, h, w = seqs.shape
        m = self.cfg.size_multiple
        if h % m or w % m:
            raise ValueError(f"{self.name}: frames {h}x{w} are not multiples of {m}, which "
                             f"the generator needs; evaluate at a multiple of {m}")
        out = []
        start = time.perf_counter()
        for i in tqdm(range(n), desc=self.name, disable=not progress, leave=False):
            x = torch.from_numpy(to_net(seqs.rgb["sim"][i], NET_RANGE))
            code = self._style_code(i)
            style = None if code is None else code[None].expand(t, -1)
            y = self.model(x, style, self._aux(seqs, i))
            out.append(from_net(y.numpy(), NET_RANGE))
        self.seconds = time.perf_counter() - start
        return np.stack(out)

    def describe(self) -> dict:
        return {"kind": "checkpoint", "path": str(self.path), "preset": self.cfg.preset,
                "arch": self.cfg.arch, "style": self.style, "aux": list(self.cfg.aux_channels)}


def resolve_model_path(path: str | Path) -> Path:
    """An artifact or checkpoint directory, or a training run resolved through ``latest``."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"model not found: {p}")
    return resolve_checkpoint(p)


def load_method(spec: str, backend: str = "auto", style: str | int = "per-sequence",
                size_mode: str = "native") -> Method:
    """``NAME=PATH`` (or just ``PATH``, named after the directory) -> a Method.

    PATH holding ``model.json`` is an exported artifact (runtime Translator, ``backend``);
    PATH holding ``config.json`` is a generator checkpoint (PyTorch, always at the frame
    size). ``size_mode`` (artifacts): "native" or "working" (see the runtime Translator).
    """
    name, sep, raw = spec.partition("=")
    if not sep:
        name, raw = Path(spec).name, spec
    if not name or not raw:
        raise ValueError(f"model spec: expected NAME=PATH or PATH, got {spec!r}")
    path = resolve_model_path(raw)
    if (path / "model.json").is_file():
        return ArtifactMethod(name, path, backend=backend, style=style, size_mode=size_mode)
    if (path / "config.json").is_file():
        return CheckpointMethod(name, path, style=style)
    raise FileNotFoundError(f"{path}: neither a model artifact (model.json) nor a generator "
                            f"checkpoint (config.json) nor a run directory with checkpoints/latest")
