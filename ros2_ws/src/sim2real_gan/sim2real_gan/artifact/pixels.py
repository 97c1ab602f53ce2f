"""The one pixel convention: uint8 RGB frames <-> network values, and the one frame check.

``to_net`` / ``from_net`` map uint8 (H,W,3) or (B,H,W,3) RGB to float32 (3,H,W) or (B,3,H,W)
and back through a :class:`~sim2real_gan.artifact.registry.Normalisation` (the runtime reads it
from model.json; training and checkpoints use :data:`NET_RANGE`, ``[-1, 1]``). Forward is a
256-entry lookup table computed in double precision (so 0 and 255 map exactly onto the range
ends), applied per plane by OpenCV; back is one OpenCV pass per plane, rounding and
saturating. Both can write into caller-owned buffers.

>>> x = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, 2)
>>> bool((from_net(to_net(x, NET_RANGE), NET_RANGE) == x).all())
True
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from .registry import NET_RANGE, Normalisation

__all__ = ["NET_RANGE", "InputError", "check_frames", "from_net", "to_net"]


class InputError(ValueError):
    """An input frame does not match what the model declares (dtype, channels, size, aux)."""


def check_frames(frames: object, what: str = "rgb", batched: bool | None = False,
                 shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Validate uint8 RGB frames; returns the array unchanged.

    Args:
        what: the name the error starts with (an argument, a panel, "translator output").
        batched: False: one frame (H,W,3); True: a batch (N,H,W,3); None: either.
        shape: when given, the exact shape required (e.g. the input's, for an output).
    Raises:
        InputError: not a numpy array, not uint8, wrong rank, not 3 channels, H or W 0
            (an empty batch, N = 0, passes), or not ``shape``.
    """
    ranks = {False: (3,), True: (4,), None: (3, 4)}[batched]
    layouts = {3: "(H,W,3)", 4: "(N,H,W,3)"}
    want = " or ".join(layouts[r] for r in ranks)
    if not isinstance(frames, np.ndarray):
        raise InputError(f"{what}: expected a numpy uint8 {want} RGB array, got "
                         f"{type(frames).__name__}")
    if frames.dtype != np.uint8 or frames.ndim not in ranks or frames.shape[-1] != 3:
        raise InputError(f"{what}: expected uint8 {want} RGB, got {frames.dtype} {frames.shape}")
    if 0 in frames.shape[-3:-1]:
        raise InputError(f"{what}: empty image {frames.shape}")
    if shape is not None and frames.shape != tuple(shape):
        raise InputError(f"{what}: expected uint8 {tuple(shape)}, got {frames.shape}")
    return frames


@functools.lru_cache(maxsize=8)
def _lut(norm: Normalisation) -> np.ndarray:
    """float32 (256,): the network value of each pixel value, rounded once from double."""
    return norm.apply(np.arange(256, dtype=np.float64)).astype(np.float32)


def to_net(frames: np.ndarray, norm: Normalisation = NET_RANGE,
           out: np.ndarray | None = None) -> np.ndarray:
    """uint8 RGB (H,W,3) -> float32 (3,H,W), or (B,H,W,3) -> (B,3,H,W), in ``norm``'s range.

    ``out``: an optional float32 buffer of the result's shape to write into (returned).
    """
    check_frames(frames, "frames", batched=None)
    batch = np.ascontiguousarray(frames if frames.ndim == 4 else frames[None])
    b, h, w, _ = batch.shape
    res = out if out is not None else np.empty((b, 3, h, w), np.float32)
    res4 = res if res.ndim == 4 else res[None]
    if res4.shape != (b, 3, h, w) or res4.dtype != np.float32:
        raise ValueError(f"to_net: out must be float32 {(b, 3, h, w)}, got {res.dtype} "
                         f"{res.shape}")
    lut = _lut(norm)
    for i in range(b):
        for c, plane in enumerate(cv2.split(batch[i])):
            cv2.LUT(plane, lut, dst=res4[i, c])
    return res if frames.ndim == 4 or out is not None else res[0]


def from_net(values: np.ndarray, norm: Normalisation = NET_RANGE,
             out: np.ndarray | None = None) -> np.ndarray:
    """float (3,H,W) -> uint8 RGB (H,W,3), or (B,3,H,W) -> (B,H,W,3): inverse of ``norm``,
    rounded to the nearest integer and saturated to 0..255.

    ``out``: an optional uint8 buffer of the result's shape to write into (returned).
    """
    if not isinstance(values, np.ndarray):
        raise InputError(f"from_net: expected a float (3,H,W) or (B,3,H,W) numpy array, got "
                         f"{type(values).__name__}")
    if values.ndim not in (3, 4) or values.shape[-3] != 3:
        raise InputError(f"from_net: expected float (3,H,W) or (B,3,H,W), got {values.dtype} "
                         f"{values.shape}")
    batch = values if values.ndim == 4 else values[None]
    if batch.dtype != np.float32:
        batch = batch.astype(np.float32)
    b, _, h, w = batch.shape
    res = out if out is not None else np.empty((b, h, w, 3), np.uint8)
    res4 = res if res.ndim == 4 else res[None]
    inv = norm.inverse()
    planes = [np.empty((h, w), np.uint8) for _ in range(3)]
    for i in range(b):
        for c in range(3):
            cv2.addWeighted(batch[i, c], inv.scale, batch[i, c], 0.0, inv.offset,
                            dst=planes[c], dtype=cv2.CV_8U)
        cv2.merge(planes, dst=res4[i])
    return res if values.ndim == 4 or out is not None else res[0]
