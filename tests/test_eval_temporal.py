"""Warping error and tOF on constructed sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sim2real_gan.eval.temporal import optical_flow, tof, warp_backward, warping_error


def _moving(t: int, h: int, w: int, d: tuple[float, float]) -> np.ndarray:
    """Smooth pattern translated by d=(dx,dy) pixels per frame, float (T,H,W,3) in [0,1]."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for i in range(t):
        x, y = xs - i * d[0], ys - i * d[1]
        r = 0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 7.0)
        g = 0.5 + 0.4 * np.cos((x + y) / 9.0)
        b = 0.5 + 0.3 * np.sin(y / 4.0 + 1.0)
        frames.append(np.stack([r, g, b], axis=-1))
    return np.stack(frames).astype(np.float32)


def _const_flow(t: int, h: int, w: int, d: tuple[float, float]) -> np.ndarray:
    flow = np.zeros((t - 1, h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = d
    return flow


def test_static_identical_sequence_gives_zero() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    seq = np.repeat(frame, 4, axis=0)
    score = warping_error(seq, np.zeros((3, 32, 32, 2), np.float32), np.ones((3, 32, 32), bool))
    assert score.mean == 0.0
    assert len(score.per_pair) == 3


def test_per_frame_noise_raises_error_monotonically() -> None:
    rng = np.random.default_rng(1)
    base = np.repeat(_moving(1, 32, 32, (0, 0)), 5, axis=0)
    flow, valid = np.zeros((4, 32, 32, 2), np.float32), np.ones((4, 32, 32), bool)
    errors = []
    for sigma in (0.0, 0.02, 0.1):
        noisy = np.clip(base + rng.normal(0, sigma, base.shape), 0, 1).astype(np.float32)
        errors.append(warping_error(noisy, flow, valid).mean)
    assert errors[0] == 0.0 < errors[1] < errors[2]
    # Independent noise of variance s^2 per frame: E ~ 3 channels * 2 s^2.
    assert errors[2] == pytest.approx(3 * 2 * 0.1**2, rel=0.25)


@pytest.mark.parametrize("d", [(2.0, 0.0), (1.5, -0.75)])
def test_motion_exactly_by_flow_gives_near_zero(d: tuple[float, float]) -> None:
    seq = _moving(4, 40, 48, d)
    flow = _const_flow(4, 40, 48, d)
    good = warping_error(seq, flow, np.ones((3, 40, 48), bool)).mean
    wrong = warping_error(seq, np.zeros_like(flow), np.ones((3, 40, 48), bool)).mean
    assert good < 1e-3
    assert wrong > 20 * good


def test_mask_excludes_occluded_pixels() -> None:
    seq = _moving(3, 32, 32, (0, 0)).copy()
    seq[1, :8] = 1.0  # a change confined to the top rows of frame 1
    flow = np.zeros((2, 32, 32, 2), np.float32)
    valid = np.ones((2, 32, 32), bool)
    assert warping_error(seq, flow, valid).mean > 0
    valid[:, :8] = False
    assert warping_error(seq, flow, valid).mean == pytest.approx(0.0, abs=1e-12)


def test_warp_backward_shapes_and_inside_mask() -> None:
    img = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    flow = torch.zeros(1, 2, 4, 4)
    flow[:, 0] = 1.0
    warped, inside = warp_backward(img, flow)
    assert warped.shape == (1, 1, 4, 4) and inside.shape == (1, 4, 4)
    assert torch.equal(warped[0, 0, :, :3], img[0, 0, :, 1:])
    assert not inside[0, :, 3].any() and inside[0, :, :3].all()


def test_bad_inputs_name_the_problem() -> None:
    seq = np.zeros((3, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="flows"):
        warping_error(seq, np.zeros((2, 8, 9, 2), np.float32), np.ones((2, 8, 8), bool))
    with pytest.raises(ValueError, match="valid"):
        warping_error(seq, np.zeros((2, 8, 8, 2), np.float32), np.ones((2, 4, 8), bool))
    with pytest.raises(ValueError, match="at least 2 frames"):
        warping_error(seq[:1], np.zeros((1, 8, 8, 2), np.float32), np.ones((1, 8, 8), bool))
    with pytest.raises(ValueError, match="masked out"):
        warping_error(seq, np.zeros((2, 8, 8, 2), np.float32), np.zeros((2, 8, 8), bool))
    with pytest.raises(ValueError, match="equal shape"):
        tof(seq, seq[:, :4])


def test_tof_zero_for_same_motion_and_positive_for_flicker() -> None:
    seq = (_moving(4, 48, 48, (1.0, 0.5)) * 255).astype(np.uint8)
    assert tof(seq, seq).mean == 0.0
    # An output that ignores the motion (frozen on frame 0) has a large flow difference.
    frozen = np.repeat(seq[:1], 4, axis=0)
    assert tof(frozen, seq).mean > 0.5
    flow = optical_flow(seq[0], seq[1])
    assert flow.shape == (48, 48, 2) and flow.dtype == np.float32
    assert np.median(flow[..., 0]) == pytest.approx(1.0, abs=0.3)
