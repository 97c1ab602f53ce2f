"""Stereo scope geometry: the eyes' placement and intrinsics, ground-truth disparity.

The scope's pose is the mono camera path; the left eye sits at -B/2 and the right eye at +B/2
along its optical x axis, both with the scope's orientation (parallel optical axes), and the
light stays on the scope tip between them. Converged scopes (``StereoConfig.convergence_m``)
are modelled by sensor shift: each eye's principal point moves by fx * B / (2 * convergence)
towards the outside, which puts zero disparity at the convergence depth and keeps the pair
rectified (rows aligned), as a calibrated, rectified toed-in pair would be.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.flow import forward_flow
from sim2real_gan.sim.geometry import Geometry

EYES = ("left", "right")


def eye_offsets(stereo: C.StereoConfig) -> dict[str, float]:
    """Eye -> offset (metres) along the scope's optical x axis."""
    half = stereo.baseline_m / 2.0
    return {"left": -half, "right": half}


def eye_intrinsics(config: C.SimConfig) -> dict[str, np.ndarray]:
    """Eye -> (3,3) K. Parallel: both ``config.K``. Converged: cx moved by
    -s/2 (left) and +s/2 (right), s = fx * B / convergence, so that
    ``cx_left - cx_right = -fx * B / convergence``."""
    if config.stereo is None:
        raise ValueError("eye_intrinsics needs SimConfig.stereo")
    K = config.K  # noqa: N806
    out = {"left": K.copy(), "right": K.copy()}
    conv = config.stereo.convergence_m
    if conv is not None:
        s = K[0, 0] * config.stereo.baseline_m / conv
        out["left"][0, 2] -= s / 2.0
        out["right"][0, 2] += s / 2.0
    return out


def projection_right(K_right: np.ndarray, baseline_m: float) -> np.ndarray:  # noqa: N803
    """(3,4) ROS CameraInfo P of the right eye: [K | (-fx * B, 0, 0)] (points in the left
    eye's frame project to right-image pixels)."""
    p = np.zeros((3, 4))
    p[:, :3] = K_right
    p[0, 3] = -K_right[0, 0] * baseline_m
    return p


def disparity(left: Geometry, right: Geometry, K_left: np.ndarray,  # noqa: N803
              K_right: np.ndarray, baseline_m: float, near_m: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth disparity left -> right and its validity.

    A hit at depth z in the left eye is at the same depth in the right eye (parallel axes)
    and at column ``x - d`` with ``d = fx * B / z + (cx_left - cx_right)``. Validity uses the
    flow test (flow.py) with the right eye's ray cast as "next frame": the point lands inside
    the right image, the right image shows the same primitive over the bilinear footprint,
    and its depth there agrees.

    Returns:
        disparity float32 (H,W) in pixels (0 on background), valid bool (H,W).
    """
    hit = left.pid >= 0
    d = np.zeros_like(left.depth)
    np.divide(np.float32(K_left[0, 0] * baseline_m), left.depth, out=d, where=hit)
    d[hit] += np.float32(K_left[0, 2] - K_right[0, 2])
    h, w = left.depth.shape
    xs = np.arange(w, dtype=np.float32)[None, :] - d
    ys = np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w))
    nxyz = np.stack([np.where(hit, xs, np.float32(0)), np.where(hit, ys, np.float32(0)),
                     left.depth])
    probe = dataclasses.replace(left, next_xyz=nxyz)
    _, valid = forward_flow(probe, right, near_m)
    return d, valid
