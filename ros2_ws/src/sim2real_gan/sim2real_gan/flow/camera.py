"""A pinhole camera of one frame: intrinsics, pose and the image size they hold for."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Camera"]


@dataclass(frozen=True)
class Camera:
    """Pinhole camera of one frame: ``K`` (3,3) for images of ``size`` (H, W) (pixel
    centres at integer coordinates), ``pose`` (4,4) T_world_camera, optical convention
    (z forward, x right, y down)."""

    K: np.ndarray
    pose: np.ndarray
    size: tuple[int, int]

    def at_size(self, h: int, w: int) -> Camera:
        """The same camera for images resized to (h, w)."""
        sy, sx = h / self.size[0], w / self.size[1]
        k = np.array(self.K, float)
        k[0, 0], k[0, 1], k[1, 1] = k[0, 0] * sx, k[0, 1] * sx, k[1, 1] * sy
        k[0, 2], k[1, 2] = (k[0, 2] + 0.5) * sx - 0.5, (k[1, 2] + 0.5) * sy - 0.5
        return Camera(k, self.pose, (h, w))

    def key(self) -> bytes:
        """Bytes that identify K, pose and size (cache keys)."""
        return np.ascontiguousarray(np.r_[self.K.ravel(), self.pose.ravel(), self.size],
                                    np.float64).tobytes()
