"""The one runtime API: ``Translator.from_artifact(path).translate(rgb)``.

Example (CPU, ONNX Runtime)::

    t = Translator.from_artifact("models/default", backend="auto")
    out = t.translate(rgb)          # uint8 (H,W,3) in -> uint8 (H,W,3) out, same H, W
    t.set_style(3)                  # seed; or a bank name, a code, a reference image
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim2real_gan.artifact import ModelManifest, load_manifest
from sim2real_gan.artifact.pixels import InputError, check_frames

from .backends import Backend, BackendOptions, resolve_backend
from .geometry import SIZE_MODES, FramePlan, from_network, plan_frame, to_network
from .styles import StyleEncoderRunner, resolve_style

log = logging.getLogger(__name__)

__all__ = ["InputError", "Translator"]


class Translator:
    """sim -> real translation of camera frames at the input's own resolution.

    Args:
        backend: a started :class:`Backend`.
        manifest: the artifact's ``model.json``.
        size_mode: "native" (run at the camera size, padded to ``size_multiple``) or
            "working" (resize to the model's working resolution and back).
        style: initial style (see :meth:`set_style`); default: the manifest's default.
        style_encoder: optional reference-image style encoder.
    """

    def __init__(self, backend: Backend, manifest: ModelManifest, *, size_mode: str = "native",
                 style: object = None, style_encoder: StyleEncoderRunner | None = None) -> None:
        if size_mode not in SIZE_MODES:
            raise ValueError(f"size_mode must be one of {SIZE_MODES}, got {size_mode!r}")
        self.backend = backend
        self.manifest = manifest
        self.size_mode = size_mode
        self._encoder = style_encoder
        self._plans: dict[tuple[int, int], FramePlan] = {}
        self._style_batch: dict[int, np.ndarray] = {}
        self._style = np.zeros(max(manifest.style_dim, 0), np.float32)
        if manifest.style_dim:
            self.set_style(style)

    @classmethod
    def from_artifact(cls, path: str | Path, backend: str = "auto", *, device: str | None = None,
                      size_mode: str = "native", style: object = None,
                      options: BackendOptions | None = None, **option_kwargs) -> Translator:
        """Load an exported artifact directory and start a backend.

        Args:
            backend: "auto" | "tensorrt" | "torch" | "onnxruntime".
            device: "cpu" or "cuda[:N]"; default: the backend's best available.
            options / option_kwargs: :class:`BackendOptions` (threads, engine_cache_dir,
                force_engine_update, resolutions, max_batch, ...).
        Raises:
            FileNotFoundError: the directory, model.json or model.onnx is missing.
            ArtifactError: model.json is invalid, disagrees with its ONNX graph, or a file
                is corrupt (one line naming the field; see docs/export.md).
            BackendUnavailable: the requested backend cannot run here.
        """
        path = Path(path)
        manifest = load_manifest(path)
        opts = options or BackendOptions(**option_kwargs)
        engine = resolve_backend(backend, path, manifest, device, opts)
        encoder = None
        if manifest.style_encoder_file:
            encoder = StyleEncoderRunner(path / manifest.style_encoder_file,
                                         manifest.working_resolution, manifest.normalisation)
        return cls(engine, manifest, size_mode=size_mode, style=style, style_encoder=encoder)

    # ------------------------------------------------------------------ style
    @property
    def style(self) -> np.ndarray:
        """The current style code (style_dim,) (a copy)."""
        return self._style.copy()

    def set_style(self, style: object = None) -> np.ndarray:
        """Switch appearance without re-export; returns the new code (style_dim,).

        ``style``: None (default), a bank name from model.json, an int seed, a float code of
        length style_dim, a uint8 (H,W,3) RGB reference image (needs a style encoder), or a
        parsed :class:`~sim2real_gan.artifact.StyleSpec` (``random`` draws a new seed).
        """
        if not self.manifest.style_dim:
            raise ValueError(f"model {self.manifest.preset!r} has no style input (style_dim 0)")
        self._style = resolve_style(style, self.manifest, self._encoder)
        self._style_batch.clear()
        return self.style

    def _styles(self, batch: int) -> np.ndarray | None:
        if not self.manifest.style_dim:
            return None
        s = self._style_batch.get(batch)
        if s is None:
            s = np.repeat(self._style[None], batch, axis=0)  # writable, contiguous
            self._style_batch[batch] = s
        return s

    # ------------------------------------------------------------------ checks
    def _plan(self, h: int, w: int) -> FramePlan:
        plan = self._plans.get((h, w))
        if plan is None:
            plan = plan_frame(h, w, self.size_mode, self.manifest.size_multiple,
                              self.manifest.working_resolution)
            self._plans[(h, w)] = plan
        return plan

    def _gather_aux(self, hw: tuple[int, int], uv: np.ndarray | None,
                    depth: np.ndarray | None, aux: np.ndarray | None) -> np.ndarray | None:
        """Validate and stack the model's aux streams -> float32 (H,W,A) or None."""
        wanted = self.manifest.aux
        given = {"uv": uv, "depth": depth}
        if not wanted:
            extra = [k for k, v in {**given, "aux": aux}.items() if v is not None]
            if extra:
                raise InputError(f"model {self.manifest.preset!r} takes no aux input, got "
                                 f"{extra}")
            return None
        a_total = self.manifest.aux_channels
        if aux is not None:
            if any(v is not None for v in given.values()):
                raise InputError("pass either aux= or the named streams (uv=, depth=), not both")
            arr = np.asarray(aux)
            if arr.ndim == 2 and a_total == 1:
                arr = arr[:, :, None]
            return self._check_float(arr, "aux", hw, a_total)
        parts = []
        for src in wanted:
            v = given.get(src.name)
            if v is None:
                raise InputError(f"model {self.manifest.preset!r} needs {src.name} (H,W,"
                                 f"{src.channels}) float32 from topic '{src.topic}' "
                                 f"({src.encoding}); it was not given")
            v = np.asarray(v)
            if v.ndim == 2 and src.channels == 1:
                v = v[:, :, None]
            parts.append(self._check_float(v, src.name, hw, src.channels))
        unknown = [k for k, v in given.items() if v is not None and k not in
                   {s.name for s in wanted}]
        if unknown:
            raise InputError(f"model {self.manifest.preset!r} does not use {unknown}")
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)

    @staticmethod
    def _check_float(arr: np.ndarray, name: str, hw: tuple[int, int], c: int) -> np.ndarray:
        if arr.dtype != np.float32:
            raise InputError(f"{name}: expected float32, got {arr.dtype}")
        if arr.ndim != 3 or arr.shape[:2] != hw or arr.shape[2] != c:
            raise InputError(f"{name}: expected ({hw[0]},{hw[1]},{c}) to match the image, "
                             f"got {arr.shape}")
        return arr

    # ------------------------------------------------------------------ run
    def translate(self, rgb: np.ndarray, uv: np.ndarray | None = None,
                  aux: np.ndarray | None = None, depth: np.ndarray | None = None) -> np.ndarray:
        """One frame (the latency path): uint8 (H,W,3) RGB -> uint8 (H,W,3) RGB, same H, W.

        ``uv`` float32 (H,W,2) in [0,1] and/or ``depth`` float32 (H,W[,1]) in metres when the
        model declares them (or ``aux`` (H,W,A) with all its channels in manifest order).
        """
        check_frames(rgb, "rgb")
        hw = rgb.shape[:2]
        a = self._gather_aux(hw, uv, depth, aux)
        plan = self._plan(*hw)
        x = to_network(rgb, plan)[None]
        a_net = None
        if a is not None:
            a_net = np.ascontiguousarray(to_network(a, plan, nearest=True).transpose(2, 0, 1))[None]
        y = self.backend.run_frames(np.ascontiguousarray(x), self._styles(1), a_net)
        return from_network(y[0], plan)

    def translate_batch(self, frames: np.ndarray | Sequence[np.ndarray],
                        uv: Sequence[np.ndarray] | np.ndarray | None = None,
                        aux: Sequence[np.ndarray] | np.ndarray | None = None,
                        depth: Sequence[np.ndarray] | np.ndarray | None = None) -> np.ndarray:
        """Many same-size frames in one backend call (the throughput path).

        ``frames``: uint8 (B,H,W,3) or a sequence of (H,W,3); aux streams likewise, per frame.
        Returns uint8 (B,H,W,3). All frames share the current style.
        """
        seq = list(frames)
        if not seq:
            raise InputError("translate_batch: no frames")
        for i, f in enumerate(seq):
            check_frames(f, f"frames[{i}]")
        hw = seq[0].shape[:2]
        if any(f.shape[:2] != hw for f in seq):
            raise InputError(f"translate_batch: all frames must have the same size, got "
                             f"{sorted({f.shape[:2] for f in seq})}")
        n = len(seq)

        def per(x, name):
            if x is None:
                return [None] * n
            xs = list(x)
            if len(xs) != n:
                raise InputError(f"translate_batch: {n} frames but {len(xs)} {name} arrays")
            return xs

        plan = self._plan(*hw)
        uvs, auxs, depths = per(uv, "uv"), per(aux, "aux"), per(depth, "depth")
        x = np.stack([to_network(f, plan) for f in seq])
        a_list = [self._gather_aux(hw, u, d, a) for u, d, a in zip(uvs, depths, auxs, strict=True)]
        a_net = None
        if a_list[0] is not None:
            a_net = np.stack([to_network(a, plan, nearest=True).transpose(2, 0, 1)
                              for a in a_list])
        y = self.backend.run_frames(x, self._styles(n), a_net)
        if plan.identity:
            return y
        return np.stack([from_network(o, plan) for o in y])

    def close(self) -> None:
        """Release the backend's device resources."""
        self.backend.close()
