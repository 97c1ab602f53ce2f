"""Ground-truth forward optical flow and its validity (occlusion / out-of-view) mask."""

from __future__ import annotations

import cv2
import numpy as np

from sim2real_gan.sim.geometry import Geometry

# A point counts as visible at t+1 when every pixel of the bilinear footprint where it lands
# (the 2x2 neighbours with non-zero weight) shows the same primitive in frame t+1, and the
# bilinearly interpolated depth there agrees with the point's own depth (within
# REL_TOL * depth + ABS_TOL_M; catches self-occlusion and near misses). So every valid pixel
# can be warped with bilinear interpolation without mixing two surfaces.
REL_TOL = 0.006
ABS_TOL_M = 0.0003


def forward_flow(geom: Geometry, nxt: Geometry,
                 near_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Flow t -> t+1 and its validity for the pixels of ``geom`` (frame t).

    Args:
        geom: ray-cast of frame t (carries where each hit point lands at t+1: ``next_xyz``).
        nxt: ray-cast of frame t+1.
        near_m: near plane; points closer than this at t+1 are invalid.
    Returns:
        flow (H,W,2) float32 in pixels (dx, dy), 0 where nothing was hit or the point goes
        behind the camera; valid (H,W) bool: the same material point is in view and is the
        first surface hit at t+1.
    """
    h, w = geom.depth.shape
    nx, ny, nz = geom.next_xyz
    ahead = nz > near_m  # also False where nothing was hit (z' = 0)
    jj = np.arange(w, dtype=np.float32)[None, :]
    ii = np.arange(h, dtype=np.float32)[:, None]
    flow = np.zeros((h, w, 2), np.float32)
    np.subtract(nx, jj, out=flow[..., 0], where=ahead)
    np.subtract(ny, ii, out=flow[..., 1], where=ahead)
    inside = ahead & (nx >= 0) & (nx <= w - 1) & (ny >= 0) & (ny <= h - 1)
    # Footprint test with exact bilinear weights (whatever OpenCV's coordinate precision):
    # one gather of (primitive id, which 2x2 neighbours share it) per pixel.
    mx = np.where(inside, nx, np.float32(0))
    my = np.where(inside, ny, np.float32(0))
    x0 = np.minimum(mx.astype(np.intp), w - 2)
    y0 = np.minimum(my.astype(np.intp), h - 2)
    key = _footprint_keys(nxt.pid).ravel()[y0 * w + x0]
    on_x = mx != x0  # the right-hand neighbours have non-zero weight
    on_y = my != y0
    same = (key >> 3) == geom.pid
    same &= ~on_x | ((key & 1) != 0)
    same &= ~on_y | ((key & 2) != 0)
    same &= ~(on_x & on_y) | ((key & 4) != 0)
    seen = cv2.remap(nxt.depth, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    seen -= nz
    np.abs(seen, out=seen)
    valid = inside & same & (seen <= REL_TOL * nz + ABS_TOL_M)
    return flow, valid


def _footprint_keys(pid: np.ndarray) -> np.ndarray:
    """(H,W) int32: pid * 8 + bit 0 (right neighbour same id) + bit 1 (lower neighbour same)
    + bit 2 (lower-right same)."""
    key = pid.astype(np.int32) * 8
    key[:, :-1] += pid[:, :-1] == pid[:, 1:]
    key[:-1, :] += (pid[:-1, :] == pid[1:, :]) * np.int32(2)
    key[:-1, :-1] += (pid[:-1, :-1] == pid[1:, 1:]) * np.int32(4)
    return key
