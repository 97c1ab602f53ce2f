"""Generator checkpoint directories: ``generator.safetensors`` + ``config.json``.

The JSON is self-describing (``{"format", "model": GeneratorConfig, "meta": {...}}``), so the
exporter, the runtime and the trainer rebuild the exact network. Weights load through
safetensors (no pickle). An optional ``style_encoder.safetensors`` holds the reference-image
style encoder. Every file is written to a temporary sibling and renamed (atomic).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from sim2real_gan.io.staging import atomic_path

from .config import GeneratorConfig
from .generators import build_generator
from .style import StyleEncoder, build_style_encoder

FORMAT = "sim2real_gan.generator/1"
WEIGHTS = "generator.safetensors"
CONFIG = "config.json"
STYLE_ENCODER = "style_encoder.safetensors"


def _atomic_write(path: Path, write) -> None:
    """``write(tmp_path)`` builds the file; it replaces ``path`` whole (io.staging's rule)."""
    with atomic_path(path, replace=True) as built:
        write(str(built))


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    _atomic_write(path, write)


def save_state_dict(path: str | Path, state: dict[str, torch.Tensor],
                    metadata: dict[str, str] | None = None) -> None:
    """Save tensors to a safetensors file atomically (tensors made contiguous, on CPU)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    _atomic_write(Path(path), lambda tmp: save_file(tensors, tmp, metadata=metadata))


def save_generator(directory: str | Path, model: nn.Module, cfg: GeneratorConfig,
                   meta: dict[str, Any] | None = None,
                   style_encoder: StyleEncoder | None = None) -> Path:
    """Write ``generator.safetensors`` + ``config.json`` (+ style encoder) into ``directory``.

    ``meta`` (JSON-serialisable: step, mode, data, ...) is stored under ``"meta"``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = getattr(model, "module", model)  # unwrap DDP
    save_state_dict(directory / WEIGHTS, model.state_dict(), {"format": FORMAT})
    if style_encoder is not None:
        save_state_dict(directory / STYLE_ENCODER, style_encoder.state_dict(), {"format": FORMAT})
    doc = {"format": FORMAT, "model": cfg.to_dict(), "meta": meta or {}}
    atomic_write_text(directory / CONFIG, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return directory


def read_config(directory: str | Path) -> tuple[GeneratorConfig, dict[str, Any]]:
    """Parse ``config.json`` -> (GeneratorConfig, meta)."""
    path = Path(directory) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"generator checkpoint: missing {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"generator checkpoint: {path} is not valid JSON ({exc})") from exc
    if doc.get("format") != FORMAT or "model" not in doc:
        raise ValueError(f"generator checkpoint: {path} has format {doc.get('format')!r}, "
                         f"expected {FORMAT!r} with a 'model' section")
    return GeneratorConfig.from_dict(doc["model"]), doc.get("meta", {})


def load_generator(directory: str | Path, device: str | torch.device = "cpu"
                   ) -> tuple[nn.Module, GeneratorConfig]:
    """Rebuild the generator from ``directory`` -> (model in eval mode, config)."""
    cfg, _ = read_config(directory)
    path = Path(directory) / WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"generator checkpoint: missing {path}")
    model = build_generator(cfg)
    state = load_file(str(path), device=str(device))
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatch
        raise ValueError(f"generator checkpoint {path}: weights do not match config: "
                         f"{str(exc).splitlines()[-1].strip()}") from exc
    if missing or unexpected:
        raise ValueError(f"generator checkpoint {path}: weights do not match config "
                         f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
    return model.to(device).eval(), cfg


def load_style_encoder(directory: str | Path, device: str | torch.device = "cpu"
                       ) -> StyleEncoder | None:
    """The reference-image style encoder saved beside the generator, or None if absent."""
    cfg, _ = read_config(directory)
    path = Path(directory) / STYLE_ENCODER
    if not path.is_file() or not cfg.style_dim:
        return None
    enc = build_style_encoder(cfg)
    enc.load_state_dict(load_file(str(path), device=str(device)))
    return enc.to(device).eval()
