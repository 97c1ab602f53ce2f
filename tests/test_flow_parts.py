"""sim2real_gan.flow.parts: each labelled part's own rigid motion from depth."""

from __future__ import annotations

import numpy as np
import pytest
from sim2real_gan.flow import Camera, FlowEstimator
from sim2real_gan.flow.geometry import static_motion
from sim2real_gan.flow.parts import refine_parts

H, W = 64, 80


def _scene(shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tilted wall (class 3) with a round organ (class 1) in front of it, whose centre
    moves by ``shift`` px between the frames; a still camera. Returns labels_t, depth_t,
    depth_t1 (metres)."""
    yy, xx = np.mgrid[:H, :W].astype(np.float64)

    def depth(cx: float, cy: float) -> tuple[np.ndarray, np.ndarray]:
        wall = 0.20 + 0.0004 * xx
        r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / 18.0 ** 2
        organ = 0.15 + 0.03 * r2
        inside = r2 < 1
        return np.where(inside, organ, wall).astype(np.float32), np.where(inside, 1, 3)

    d0, labels = depth(40.0, 30.0)
    d1, _ = depth(40.0 + shift[0], 30.0 + shift[1])
    return labels.astype(np.uint8), d0, d1


def _still_camera() -> Camera:
    k = np.array([[60.0, 0, (W - 1) / 2], [0, 60.0, (H - 1) / 2], [0, 0, 1]])
    return Camera(k, np.eye(4), (H, W))


@pytest.mark.parametrize("shift", [(0.6, -0.4), (-0.3, 0.5)])
def test_a_moving_part_gets_its_own_motion_and_the_static_part_keeps_none(shift) -> None:
    labels, d0, d1 = _scene(shift)
    cam = _still_camera()
    flow, visible, z_t1 = static_motion(d0, d1, cam, cam)
    assert np.abs(flow).max() < 1e-4  # a still camera: the static flow is zero everywhere
    out, moved = refine_parts(flow, visible, labels, d1, z_t1)
    organ = (labels == 1) & visible
    core = organ & (np.hypot(*np.mgrid[:H, :W][::-1] - np.array([40, 30])[:, None, None])
                    < 14)
    assert moved[organ].all() and not moved[labels == 3].any()
    assert np.allclose(out[core].mean(0), shift, atol=0.05)
    assert np.array_equal(out[labels == 3], flow[labels == 3])


def test_a_still_scene_is_left_as_it_is() -> None:
    labels, d0, _ = _scene((0.0, 0.0))
    cam = _still_camera()
    flow, visible, z_t1 = static_motion(d0, d0, cam, cam)
    out, moved = refine_parts(flow, visible, labels, d0, z_t1)
    assert not moved.any() and np.array_equal(out, flow)


def test_estimator_with_labels_follows_breathing_organs() -> None:
    """On the built-in simulator (organs breathe), labels bring the estimate closer to the
    ground truth on the pixels whose flow came from depth and camera motion."""
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    frames = list(EndoscopeSimulator(SimConfig(width=160, height=160, appearances=("sim",)),
                                     7).frames(4))
    est = FlowEstimator()
    err = {False: [], True: []}
    for a, b in zip(frames[:-1], frames[1:], strict=True):
        cams = [Camera(f.K, f.cam_pose, f.depth.shape) for f in (a, b)]
        organs = a.flow_valid & (a.labels >= 1) & (a.labels <= 5)
        for with_labels in (False, True):
            fa, fb = ({"image": f.image("sim"), "depth": f.depth} for f in (a, b))
            if with_labels:
                fa["labels"], fb["labels"] = a.labels, b.labels
            flow, _, _ = est(fa, fb, *cams)
            err[with_labels].append(np.linalg.norm(flow - a.flow, axis=-1)[organs].mean())
    assert np.mean(err[True]) < 0.8 * np.mean(err[False])
