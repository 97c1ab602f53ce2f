"""Map any camera size to a size the network accepts, and the output back (pixel-aligned).

Two modes:

* ``native``: run at the camera's own size, padded at the bottom/right (mirror padding) up
  to the next multiple of ``size_multiple``; the padding is cropped off the output, so
  every output pixel is computed from the input pixel at the same place, unresampled.
* ``working``: resize to the model's working (training) resolution and back (OpenCV,
  area down / linear up), for models that only look right at the scale they were
  trained at.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIZE_MODES = ("native", "working")


@dataclass(frozen=True)
class FramePlan:
    """How one input size (H, W) is fed to the network of size (run_h, run_w)."""

    height: int
    width: int
    run_h: int
    run_w: int
    mode: str

    @property
    def identity(self) -> bool:
        return (self.height, self.width) == (self.run_h, self.run_w)


def plan_frame(height: int, width: int, mode: str, size_multiple: int,
               working: tuple[int, int]) -> FramePlan:
    """The :class:`FramePlan` for an input of ``height`` x ``width``."""
    if mode == "native":
        m = size_multiple
        return FramePlan(height, width, -(-height // m) * m, -(-width // m) * m, mode)
    if mode == "working":
        return FramePlan(height, width, working[0], working[1], mode)
    raise ValueError(f"size_mode must be one of {SIZE_MODES}, got {mode!r}")


def to_network(img: np.ndarray, plan: FramePlan, nearest: bool = False) -> np.ndarray:
    """(H,W[,C]) -> (run_h, run_w[,C]); ``nearest`` for aux data (uv, depth)."""
    if plan.identity:
        return img
    if plan.mode == "native":
        pad_b, pad_r = plan.run_h - plan.height, plan.run_w - plan.width
        border = cv2.BORDER_REFLECT_101 if (pad_b < plan.height and pad_r < plan.width) \
            else cv2.BORDER_REPLICATE
        out = cv2.copyMakeBorder(img, 0, pad_b, 0, pad_r, border)
    else:
        if nearest:
            interp = cv2.INTER_NEAREST
        else:
            shrink = plan.run_h * plan.run_w < plan.height * plan.width
            interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out = cv2.resize(img, (plan.run_w, plan.run_h), interpolation=interp)
    if img.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
        out = out[:, :, None]
    return out


def from_network(img: np.ndarray, plan: FramePlan) -> np.ndarray:
    """(run_h, run_w, 3) network output -> (H, W, 3) aligned with the input."""
    if plan.identity:
        return img
    if plan.mode == "native":
        return np.ascontiguousarray(img[: plan.height, : plan.width])
    shrink = plan.height * plan.width < plan.run_h * plan.run_w
    return cv2.resize(img, (plan.width, plan.height),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
