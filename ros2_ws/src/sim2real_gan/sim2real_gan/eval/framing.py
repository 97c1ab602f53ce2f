"""One picture geometry for both sides of an own-data evaluation: crop a box, then resize.

The footage is cropped to its content area's bounding box (the scope opening, without the
black surround around it) and the simulator frames are centre-cropped to the same aspect
ratio; both are then resized to one evaluation size, so a pixel of the content mask means
the same place in a footage frame and in a translated frame. Fields move with the image:
labels, masks and depth by nearest neighbour (never blended across a boundary), flow
vectors scaled with the resize, a camera's principal point shifted by the crop.

Example:
    >>> fr = Framing.centre((480, 640), (64, 64))    # 4:3 frames -> 64x64 (centre 480x480)
    >>> fr.box, fr.out
    ((0, 80, 480, 480), (64, 64))
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sim2real_gan.flow.camera import Camera

__all__ = ["Framing", "eval_size", "content_box", "MULTIPLE"]

#: evaluation sizes are multiples of this (every generator preset's size multiple divides it)
MULTIPLE = 8


def eval_size(width: int, box_hw: tuple[int, int]) -> tuple[int, int]:
    """(h, w): ``width`` (a multiple of :data:`MULTIPLE`) and the height that keeps the
    box's aspect ratio, rounded to a multiple of :data:`MULTIPLE` (at least 16)."""
    if width < 16 or width % MULTIPLE:
        raise ValueError(f"evaluation width: expected a multiple of {MULTIPLE} >= 16, got {width}")
    h = max(16, MULTIPLE * round(width * box_hw[0] / box_hw[1] / MULTIPLE))
    return h, width


def content_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box (top, left, height, width) of the True pixels of a bool (H,W) mask."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise ValueError("content mask is empty (no pixel marked as scene)")
    return int(ys.min()), int(xs.min()), int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)


@dataclass(frozen=True)
class Framing:
    """Crop ``box`` = (top, left, height, width) of frames of size ``native`` (H, W), then
    resize to ``out`` (h, w)."""

    native: tuple[int, int]
    box: tuple[int, int, int, int]
    out: tuple[int, int]

    @classmethod
    def centre(cls, native: tuple[int, int], out: tuple[int, int]) -> Framing:
        """The largest centred box of ``out``'s aspect ratio inside ``native``."""
        (hn, wn), (h, w) = native, out
        if hn * w > wn * h:                      # taller than wanted: crop rows
            bh, bw = max(1, round(wn * h / w)), wn
        else:
            bh, bw = hn, max(1, round(hn * w / h))
        return cls(native, ((hn - bh) // 2, (wn - bw) // 2, bh, bw), out)

    def _crop(self, arr: np.ndarray, what: str) -> np.ndarray:
        if arr.shape[:2] != self.native:
            raise ValueError(f"{what} is {arr.shape[1]}x{arr.shape[0]}, expected "
                             f"{self.native[1]}x{self.native[0]} like the first frame")
        t, left, h, w = self.box
        return arr[t:t + h, left:left + w]

    def image(self, arr: np.ndarray, what: str = "frame") -> np.ndarray:
        """uint8 (H,W,3) -> (h,w,3), area-averaged when shrinking."""
        crop = self._crop(arr, what)
        shrink = self.out[0] < crop.shape[0]
        return cv2.resize(np.ascontiguousarray(crop), self.out[::-1],
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)

    def nearest(self, arr: np.ndarray, what: str = "field") -> np.ndarray:
        """Labels, masks (bool kept bool), depth: (H,W) -> (h,w) by nearest neighbour."""
        crop = np.ascontiguousarray(self._crop(arr, what))
        src = crop.astype(np.uint8) if crop.dtype == bool else crop
        out = cv2.resize(src, self.out[::-1], interpolation=cv2.INTER_NEAREST)
        return out.astype(bool) if crop.dtype == bool else out

    def flow(self, arr: np.ndarray, what: str = "flow") -> np.ndarray:
        """Forward flow float32 (H,W,2) px -> (h,w,2) px of the framed images."""
        crop = np.ascontiguousarray(self._crop(arr, what), dtype=np.float32)
        scale = np.array([self.out[1] / crop.shape[1], self.out[0] / crop.shape[0]], np.float32)
        return cv2.resize(crop, self.out[::-1], interpolation=cv2.INTER_LINEAR) * scale

    def mask(self, arr: np.ndarray) -> np.ndarray:
        """A bool (H,W) mask -> (h,w): True where most of the source area is True."""
        crop = np.ascontiguousarray(self._crop(arr, "mask"), dtype=np.float32)
        return cv2.resize(crop, self.out[::-1], interpolation=cv2.INTER_AREA) > 0.5

    def camera(self, cam: Camera) -> Camera:
        """The camera of the framed images (principal point moved by the crop, then scaled)."""
        t, left, h, w = self.box
        k = np.array(cam.at_size(*self.native).K, float)
        k[0, 2] -= left
        k[1, 2] -= t
        return Camera(k, cam.pose, (h, w)).at_size(*self.out)
