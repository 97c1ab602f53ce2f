"""uint8 HWC frames <-> normalised float32 NCHW arrays on the CPU, into reused buffers.

The conversion itself is :func:`sim2real_gan.artifact.pixels.to_net` / ``from_net`` with the
model's normalisation (model.json, ``[-1, 1]`` for every model so far); this class only keeps
the float buffer per batch shape, so the per-frame path allocates little beyond its output.
"""

from __future__ import annotations

import numpy as np

from sim2real_gan.artifact import NET_RANGE, Normalisation
from sim2real_gan.artifact.pixels import from_net, to_net


class FrameConverter:
    """Reusable conversion buffer for one batch shape ``(B, H, W)``."""

    def __init__(self, norm: Normalisation = NET_RANGE) -> None:
        self.norm = norm
        self._nchw = np.empty((0, 3, 0, 0), np.float32)

    def to_nchw(self, frames: np.ndarray) -> np.ndarray:
        """uint8 (B,H,W,3) RGB -> float32 (B,3,H,W) in the model's range (a reused buffer:
        copy to keep)."""
        b, h, w, _ = frames.shape
        if self._nchw.shape != (b, 3, h, w):
            self._nchw = np.empty((b, 3, h, w), np.float32)
        return to_net(frames, self.norm, out=self._nchw)

    def to_frames(self, nchw: np.ndarray) -> np.ndarray:
        """float32 (B,3,H,W) in the model's range -> new uint8 (B,H,W,3), rounded and
        saturated."""
        return from_net(nchw, self.norm)


def aux_to_nchw(aux: np.ndarray) -> np.ndarray:
    """float32 (B,H,W,A) -> contiguous float32 (B,A,H,W)."""
    return np.ascontiguousarray(aux.transpose(0, 3, 1, 2), dtype=np.float32)
