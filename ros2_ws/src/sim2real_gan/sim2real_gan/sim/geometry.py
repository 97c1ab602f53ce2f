"""Ray-cast results: the per-pixel Geometry of one time step, its output planes, and the
trigonometry-free surface maps (UV) used on ellipsoids and cylinders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

f32 = np.float32


@dataclass
class Geometry:
    """Per-pixel ray-cast result for one time step (H, W = image size).

    depth: (H,W) float32 metres along the optical axis, 0 where nothing is hit.
    pid: (H,W) int16 primitive id, -1 where nothing is hit.
    labels: (H,W) uint8 class ids.
    normal: (3,H,W) float32 unit normal in the optical frame (facing the camera side).
    uv: (2,H,W) float32 atlas UV in [0,1] (0 where nothing is hit).
    patch: (H,W) float32 patch field at the hit (> 0 inside a class patch, -1 elsewhere).
    next_xyz: (3,H,W) float32 pixel x', y' and depth z' of the same material point one time
        step later (z' = 0 where nothing was hit).
    """

    depth: np.ndarray
    pid: np.ndarray
    labels: np.ndarray
    normal: np.ndarray
    uv: np.ndarray
    patch: np.ndarray
    next_xyz: np.ndarray

    @property
    def hit(self) -> np.ndarray:
        """(H,W) bool: a surface was hit within [near, far]."""
        return self.pid >= 0


def azimuthal_uv(q0: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-sphere points -> (u, v) in the disc of radius 1/2 around (1/2, 1/2).

    Lambert azimuthal equal-area projection centred on the +q2 pole: smooth, one-to-one and
    with even texel density everywhere except at the opposite pole (q2 = -1, the disc's rim),
    which callers keep out of sight. Only sqrt, no trigonometry.
    """
    k = q2 + f32(1.0)
    np.maximum(k, f32(1e-6), out=k)
    k *= f32(8.0)
    np.sqrt(k, out=k)
    np.divide(f32(1.0), k, out=k)  # 0.5 * sqrt(1 / (2 (1 + q2)))
    u, v = q0 * k, q1 * k
    u += f32(0.5)
    v += f32(0.5)
    return u, v


def pseudo_angle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Monotonic stand-in for atan2(y, x) / (2 pi) mod 1, in [0,1) (the "diamond angle")."""
    s = np.abs(x) + np.abs(y) + f32(1e-12)
    a = np.where(y >= 0, np.where(x >= 0, y / s, 1 - x / s), np.where(x < 0, 2 - y / s, 3 + x / s))
    return a * f32(0.25)


class Planes:
    """Output planes of a ray-cast, filled primitive by primitive."""

    def __init__(self, h: int, w: int):
        self.normal = np.zeros((3, h, w), f32)
        self.uv = np.zeros((2, h, w), f32)
        self.nxyz = np.zeros((3, h, w), f32)
        self.labels = np.zeros((h, w), np.uint8)
        self.shape = (h, w)

    def put(self, idx: tuple | np.ndarray, n: list, uv: tuple, nx: list,
            label: int | np.ndarray) -> None:
        """Write values at ``idx``: a (rows, cols) slice pair (values are that block,
        flattened) or flat pixel indices."""
        planes = [*self.normal, *self.uv, *self.nxyz]
        values = [*n, *uv, *nx]
        if isinstance(idx, tuple):
            block = self.labels[idx].shape
            for plane, val in zip(planes, values, strict=True):
                plane[idx] = val.reshape(block)
            self.labels[idx] = label
        else:
            for plane, val in zip(planes, values, strict=True):
                plane.reshape(-1)[idx] = val
            self.labels.reshape(-1)[idx] = label

    def clear(self, rect: tuple[slice, slice], mask: np.ndarray) -> None:
        """Zero every plane inside ``rect`` where ``mask`` (that block's shape) is True."""
        for plane in (*self.normal, *self.uv, *self.nxyz, self.labels):
            plane[rect][mask] = 0
