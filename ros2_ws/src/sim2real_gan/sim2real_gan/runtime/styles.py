"""Style codes: the named bank in model.json, seeds, explicit codes and reference images.

A style code ``s`` (style_dim,) has an N(0, I) prior (MUNIT). A seed maps to
``numpy.random.default_rng(seed).standard_normal(style_dim)`` - the same code on every
machine and backend. A reference image is encoded by the artifact's style encoder.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sim2real_gan.export.artifact import ModelManifest


def seed_style(seed: int, style_dim: int) -> np.ndarray:
    """Deterministic style code (style_dim,) float32 for an integer seed."""
    return np.random.default_rng(int(seed)).standard_normal(style_dim).astype(np.float32)


class StyleEncoderRunner:
    """``style_encoder.onnx`` through ONNX Runtime (CPU): reference RGB uint8 -> code."""

    def __init__(self, path: str | Path, size: tuple[int, int]) -> None:
        from .backends.onnxruntime_backend import make_session

        self.session = make_session(path, ["CPUExecutionProvider"], threads=1)
        self.size = size

    def encode(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (H,W,3) RGB reference -> float32 (style_dim,)."""
        h, w = self.size
        x = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
        x = (x / 127.5 - 1.0).transpose(2, 0, 1)[None]
        return self.session.run(None, {"image": np.ascontiguousarray(x)})[0][0]


def resolve_style(spec: object, manifest: ModelManifest,
                  encoder: StyleEncoderRunner | None) -> np.ndarray:
    """A style spec -> float32 code (style_dim,).

    ``spec``: None (the manifest's default style), a bank name (str), a seed (int), a code
    (sequence / 1-D float array of length style_dim), or a reference image (uint8 (H,W,3)).
    """
    dim = manifest.style_dim
    if spec is None:
        spec = manifest.default_style if manifest.styles else 0
    if isinstance(spec, str):
        if spec not in manifest.styles:
            raise KeyError(f"unknown style {spec!r}; the model's style bank has "
                           f"{sorted(manifest.styles)} (or pass a seed, a code or an image)")
        return np.asarray(manifest.styles[spec], np.float32)
    if isinstance(spec, (bool, np.bool_)):
        raise TypeError("style: expected a name, seed, code or reference image, got a bool")
    if isinstance(spec, (int, np.integer)):
        return seed_style(int(spec), dim)
    arr = np.asarray(spec)
    if arr.dtype == np.uint8 and arr.ndim == 3:
        if arr.shape[2] != 3:
            raise ValueError(f"style reference image: expected uint8 (H,W,3) RGB, got "
                             f"{arr.shape}")
        if encoder is None:
            raise ValueError("this model artifact has no style encoder (style_encoder.onnx); "
                             "use a bank name, a seed or a code")
        return encoder.encode(arr).astype(np.float32)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.floating):
        if arr.shape[0] != dim:
            raise ValueError(f"style code: expected {dim} values (style_dim), got {arr.shape[0]}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("style code contains NaN or infinity")
        return arr.astype(np.float32)
    raise TypeError(f"style: expected a name, seed, float code ({dim},) or uint8 (H,W,3) "
                    f"reference image, got {type(spec).__name__} {getattr(arr, 'shape', '')} "
                    f"{arr.dtype}")
