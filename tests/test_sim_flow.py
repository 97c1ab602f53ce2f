"""Ground-truth flow and validity of the simulator, checked by warping (tiny sizes)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sim2real_gan.sim.config import SHAFT, SimConfig
from sim2real_gan.sim.flow import ABS_TOL_M, REL_TOL
from sim2real_gan.sim.simulator import EndoscopeSimulator

W, H = 96, 80


def _warp(img: np.ndarray, flow: np.ndarray, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Sample frame t+1's ``img`` at p + flow(p): brings it back onto frame t's pixels."""
    mx = np.arange(flow.shape[1], dtype=np.float32)[None, :] + flow[..., 0]
    my = np.arange(flow.shape[0], dtype=np.float32)[:, None] + flow[..., 1]
    if img.ndim == 3 and img.shape[2] == 2:  # OpenCV 5 samples 2-channel maps coarser
        return np.stack([_warp(img[..., c], flow, interp) for c in range(2)], -1)
    return cv2.remap(img, mx, my, interp, borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def frames() -> list:
    # fps=4 makes the motion between frames large (several pixels); "world" lighting makes a
    # surface point's colour independent of the camera, so warping must reproduce it.
    cfg = SimConfig(width=W, height=H, fps=4.0, lighting="world", instruments=2)
    out = []
    for seed in (1, 2):
        out += list(zip(*[iter(EndoscopeSimulator(cfg, seed).frames(6))] * 2, strict=False))
    return out


def test_warping_next_image_with_flow_reproduces_this_image(frames: list) -> None:
    errors, zero_errors, shifted_errors = [], [], []
    for a, b in frames:
        valid = a.flow_valid
        assert valid.mean() > 0.5
        img_a, img_b = a.image().astype(np.float32), b.image().astype(np.float32)
        errors.append(np.abs(_warp(img_b, a.flow) - img_a)[valid].mean() / 255)
        zero_errors.append(np.abs(img_b - img_a)[valid].mean() / 255)
        shifted = a.flow + np.array([1.5, -1.0], np.float32)
        shifted_errors.append(np.abs(_warp(img_b, shifted) - img_a)[valid].mean() / 255)
        assert np.abs(a.flow).max() > 2.0  # the check is not trivially satisfied
    # Bilinear sampling of an image with hard class-colour edges costs ~1/255 on average.
    assert max(errors) < 2 / 255
    assert min(zero_errors) > 2 * max(errors)
    assert min(shifted_errors) > 2 * max(errors)


def test_labels_and_uv_warp_back(frames: list) -> None:
    for a, b in frames:
        v = a.flow_valid
        same = (_warp(b.labels, a.flow, cv2.INTER_NEAREST) == a.labels)[v].mean()
        assert same > 0.97  # mismatches: only pixels within half a pixel of a class border
        wrong = (_warp(b.labels, np.zeros_like(a.flow), cv2.INTER_NEAREST) == a.labels)[v].mean()
        assert wrong < same
        # UV is attached to the surface: warped UV matches to a small fraction of an atlas
        # texel (1/1024 or less) except on rare map seams; half the flow is far off.
        err = np.abs(_warp(b.uv, a.flow) - a.uv).max(-1)[v]
        half = np.abs(_warp(b.uv, a.flow * 0.5) - a.uv).max(-1)[v]
        assert np.median(err) < 5e-5 and np.percentile(err, 95) < 1.5e-3
        assert np.median(half) > 10 * np.median(err)


def _backproject(depth: np.ndarray, K: np.ndarray) -> np.ndarray:  # noqa: N803
    """(H,W) depth -> (H,W,3) points in the optical frame."""
    h, w = depth.shape
    jj, ii = np.meshgrid(np.arange(w), np.arange(h))
    x = (jj - K[0, 2]) / K[0, 0] * depth
    y = (ii - K[1, 2]) / K[1, 1] * depth
    return np.stack([x, y, depth], -1)


def test_flow_and_depth_agree_with_camera_motion_on_still_tissue() -> None:
    """Independent of the ray caster's flow code: back-project depth at t, move it with the
    two camera poses, project; for still tissue this must be exactly the flow, and the depth
    map of t+1 sampled there must equal the moved point's depth."""
    cfg = SimConfig(width=W, height=H, fps=5.0, breathing=False)
    for a, b in zip(*[iter(EndoscopeSimulator(cfg, 3).frames(4))] * 2, strict=False):
        pts = _backproject(a.depth.astype(np.float64), a.K)
        T = np.linalg.inv(b.cam_pose) @ a.cam_pose  # noqa: N806  camera t -> camera t+1
        q = pts @ T[:3, :3].T + T[:3, 3]
        px = a.K[0, 0] * q[..., 0] / q[..., 2] + a.K[0, 2]
        py = a.K[1, 1] * q[..., 1] / q[..., 2] + a.K[1, 2]
        jj, ii = np.meshgrid(np.arange(W), np.arange(H))
        tissue = (a.labels > 0) & (a.labels < SHAFT)
        expected = np.stack([px - jj, py - ii], -1)
        assert np.abs(expected - a.flow)[tissue].max() < 0.02
        v = a.flow_valid & tissue
        seen = _warp(b.depth, a.flow)[v]
        z = q[..., 2][v]
        rel = np.abs(seen - z) / z
        assert np.median(rel) < 2e-4 and np.percentile(rel, 99) < 3e-3
        assert np.all(np.abs(seen - z) <= REL_TOL * z + ABS_TOL_M + 1e-6)  # validity tolerance
        unwarped = np.abs(b.depth - q[..., 2])[v] / q[..., 2][v]
        assert np.median(unwarped) > 10 * np.median(rel)  # camera motion is not negligible


def test_validity_marks_occlusion_and_leaving_the_view() -> None:
    """Where the moved point is hidden (its depth is behind the next depth map) or outside
    the image, flow_valid must be False; elsewhere on hit pixels mostly True."""
    cfg = SimConfig(width=W, height=H, fps=3.0)
    sim = EndoscopeSimulator(cfg, 4)
    g0, g1 = sim.geometry(0), sim.geometry(1)
    f = next(sim.frames(1))
    nx, ny, nz = g0.next_xyz
    outside = g0.hit & ((nx < 0) | (nx > W - 1) | (ny < 0) | (ny > H - 1))
    assert not f.flow_valid[outside].any()
    jn = np.clip(np.round(nx).astype(int), 0, W - 1)
    iN = np.clip(np.round(ny).astype(int), 0, H - 1)  # noqa: N806
    hidden = g0.hit & ~outside & (g1.depth[iN, jn] < nz * 0.95)
    assert not f.flow_valid[hidden].any()
    assert not f.flow_valid[~g0.hit].any()
    assert f.flow_valid[g0.hit & ~outside & ~hidden].mean() > 0.9
