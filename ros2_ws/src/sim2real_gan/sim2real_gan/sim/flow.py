"""Ground-truth forward optical flow and its validity (occlusion / out-of-view) mask."""

from __future__ import annotations

import cv2
import numpy as np

from sim2real_gan.sim.raycast import Geometry

# A point counts as visible at t+1 when, bilinearly sampled where the point lands, the next
# depth map agrees with the point's own depth there (within REL_TOL * depth + ABS_TOL_M) and
# the next primitive-id map equals the point's primitive. Bilinear sampling also rejects
# landing spots that straddle an edge, so every valid pixel can be warped with bilinear
# interpolation without mixing two surfaces.
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
    mx = np.where(inside, nx, np.float32(-2.0))
    my = np.where(inside, ny, np.float32(-2.0))
    both = cv2.merge([nxt.depth, nxt.pid.astype(np.float32)])
    seen = cv2.remap(both, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=(0.0, -1.0))
    depth_err = np.abs(seen[..., 0] - nz)
    pid_err = np.abs(seen[..., 1] - geom.pid)
    valid = inside & (depth_err <= REL_TOL * nz + ABS_TOL_M) & (pid_err < 1e-3)
    return flow, valid
