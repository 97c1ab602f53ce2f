"""uint8 HWC frames <-> normalised float32 NCHW tensors on the CPU, into reused buffers.

The network works on RGB in [-1, 1] (``x = pixel / 127.5 - 1``). OpenCV does the per-plane
conversions (one pass each, saturating on the way back), into buffers kept per shape so the
per-frame path allocates only its output frame.
"""

from __future__ import annotations

import cv2
import numpy as np

SCALE_IN = 1.0 / 127.5
OFFSET_IN = -1.0


class FrameConverter:
    """Reusable conversion buffers for one batch shape ``(B, H, W)``."""

    def __init__(self) -> None:
        self._shape: tuple[int, int, int] | None = None
        self._planes: list[np.ndarray] = []
        self._nchw = np.empty((0, 3, 0, 0), np.float32)

    def _ensure(self, b: int, h: int, w: int) -> None:
        if self._shape != (b, h, w):
            self._planes = [np.empty((h, w), np.uint8) for _ in range(3)]
            self._nchw = np.empty((b, 3, h, w), np.float32)
            self._shape = (b, h, w)

    def to_nchw(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (B,H,W,3) RGB -> float32 (B,3,H,W) in [-1,1] (a reused buffer: copy to keep)."""
        b, h, w, _ = frames.shape
        self._ensure(b, h, w)
        for i in range(b):
            cv2.split(frames[i], self._planes)
            for c in range(3):
                cv2.addWeighted(self._planes[c], SCALE_IN, self._planes[c], 0.0, OFFSET_IN,
                                dst=self._nchw[i, c], dtype=cv2.CV_32F)
        return self._nchw

    def to_frames(self, nchw: np.ndarray) -> np.ndarray:
        """float32 (B,3,H,W) in [-1,1] -> new uint8 (B,H,W,3), rounded and saturated."""
        b, _, h, w = nchw.shape
        self._ensure(b, h, w)
        out = np.empty((b, h, w, 3), np.uint8)
        for i in range(b):
            for c in range(3):
                cv2.addWeighted(nchw[i, c], 127.5, nchw[i, c], 0.0, 127.5,
                                dst=self._planes[c], dtype=cv2.CV_8U)
            cv2.merge(self._planes, dst=out[i])
        return out


def aux_to_nchw(aux: np.ndarray) -> np.ndarray:
    """float32 (B,H,W,A) -> contiguous float32 (B,A,H,W)."""
    return np.ascontiguousarray(aux.transpose(0, 3, 1, 2), dtype=np.float32)
