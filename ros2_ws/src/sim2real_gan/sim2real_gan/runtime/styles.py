"""Style codes: the named bank in model.json, seeds, explicit codes and reference images.

A style code ``s`` (style_dim,) has an N(0, I) prior (MUNIT). A seed maps to
``numpy.random.default_rng(seed).standard_normal(style_dim)`` (:func:`seed_style`) - the same
code on every machine and backend. A reference image is encoded by the artifact's style
encoder. Style *text* (CLI, node, launch) is parsed by :class:`~sim2real_gan.artifact.StyleSpec`;
:func:`style_value` turns a parsed spec into what :func:`resolve_style` takes.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np

from sim2real_gan.artifact import (
    NET_RANGE,
    ModelManifest,
    Normalisation,
    StyleError,
    StyleSpec,
    UnknownStyleError,
    prior_style,
    seed_style,
)
from sim2real_gan.artifact.pixels import check_frames, to_net

__all__ = ["StyleEncoderRunner", "check_style_for", "read_reference", "resolve_style",
           "seed_style", "style_value"]


class StyleEncoderRunner:
    """``style_encoder.onnx`` through ONNX Runtime (CPU): reference RGB uint8 -> code."""

    def __init__(self, path: str | Path, size: tuple[int, int],
                 norm: Normalisation = NET_RANGE) -> None:
        from .backends.onnxruntime_backend import make_session

        self.session = make_session(path, ["CPUExecutionProvider"], threads=1)
        self.size = size
        self.norm = norm

    def encode(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (H,W,3) RGB reference -> float32 (style_dim,)."""
        h, w = self.size
        x = to_net(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA), self.norm)
        return self.session.run(None, {"image": x[None]})[0][0]


def read_reference(path: str | Path) -> np.ndarray:
    """A reference image file -> uint8 (H,W,3) RGB; errors name the path."""
    path = Path(path)
    if not path.is_file():
        raise StyleError(f"style: reference image {path} does not exist")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise StyleError(f"style: reference image {path} cannot be read as an image")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def style_value(spec: StyleSpec, rng: random.Random) -> int | str | np.ndarray:
    """What :meth:`Translator.set_style` takes for a parsed spec: a seed (``random`` draws a
    fresh one from ``rng``), a bank name, or the reference image's pixels."""
    if spec.kind == "random":
        return rng.randrange(2**31)
    if spec.kind == "image":
        return read_reference(str(spec.value))
    return spec.value


def check_style_for(spec: StyleSpec, manifest: ModelManifest) -> None:
    """Refuse a style the model cannot use, naming what it has (the node's ``style``
    parameter is checked with this before it is applied).

    Raises:
        StyleError: a name not in the style bank, or a reference image for a model
            without a style encoder.
    """
    if spec.kind == "name" and spec.value not in manifest.styles:
        raise StyleError(f"style: {spec.value!r} is not in the model's style bank "
                         f"{sorted(manifest.styles)}")
    if spec.kind == "image" and not manifest.style_encoder_file:
        raise StyleError(f"style: this model has no style encoder, so the reference image "
                         f"{spec.value} cannot be used")


def resolve_style(spec: object, manifest: ModelManifest,
                  encoder: StyleEncoderRunner | None) -> np.ndarray:
    """A style value -> float32 code (style_dim,).

    ``spec``: None (the manifest's default style), a bank name (str), a seed (int: drawn
    through the manifest's ``style_prior`` when it has one), a code
    (sequence / 1-D float array of length style_dim), or a reference image (uint8 (H,W,3)).
    Raises :class:`UnknownStyleError` (a KeyError and a ValueError) for a name not in the bank.
    """
    dim = manifest.style_dim
    if spec is None:
        spec = manifest.default_style if manifest.styles else 0
    if isinstance(spec, StyleSpec):
        spec = style_value(spec, random.Random())
    if isinstance(spec, str):
        if spec not in manifest.styles:
            raise UnknownStyleError(f"unknown style {spec!r}; the model's style bank has "
                                    f"{sorted(manifest.styles)} (or pass a seed, a code or an "
                                    f"image)")
        return np.asarray(manifest.styles[spec], np.float32)
    if isinstance(spec, (bool, np.bool_)):
        raise TypeError("style: expected a name, seed, code or reference image, got a bool")
    if isinstance(spec, (int, np.integer)):  # through the model's style prior, if it has one
        return prior_style(int(spec), dim, manifest.style_prior)
    arr = np.asarray(spec)
    if arr.dtype == np.uint8 and arr.ndim == 3:
        check_frames(arr, "style reference image")
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
                    f"reference image, got {type(spec).__name__} {arr.shape} {arr.dtype}")
