"""The right eye rebuilt from the left translation with depth (pipeline.stereo_reproject):
geometry from camera_info, exact shifts on a plane, occlusion, Gazebo depth conventions, the
serving step's counts and faults, and when the plan switches it on."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sim2real_gan.io.image_codec import numpy_to_image_fields
from sim2real_gan.pipeline.faults import FrameFault
from sim2real_gan.pipeline.stereo_reproject import (
    PairGeometry,
    RightFromLeft,
    depth_metres,
    reproject_right,
    right_from_left_for,
)
from sim2real_gan.pipeline.stereo_topics import StereoRequest
from sim2real_gan.pipeline.topics import TopicRequest

FX, B = 200.0, 0.005


def projections(fx: float = FX, baseline: float = B, cx_l: float = 31.5, cx_r: float = 31.5):
    p_l = [fx, 0, cx_l, 0, 0, fx, 31.5, 0, 0, 0, 1, 0]
    p_r = [fx, 0, cx_r, -fx * baseline, 0, fx, 31.5, 0, 0, 0, 1, 0]
    return p_l, p_r


def texture(h: int = 32, w: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_geometry_from_camera_info() -> None:
    g = PairGeometry.from_projections(*projections())
    assert g == PairGeometry(pytest.approx(FX * B), 0.0)
    converged = PairGeometry.from_projections(*projections(cx_l=30.0, cx_r=33.0))
    assert converged.dcx == pytest.approx(-3.0)
    assert PairGeometry.from_projections(*projections(baseline=0.0)) is None  # P[3] = 0
    assert PairGeometry.from_projections(*projections(baseline=-B)) is None   # eyes swapped
    assert PairGeometry.from_projections([0] * 9, projections()[1]) is None  # not a P


def test_a_plane_is_an_exact_shift() -> None:
    z = FX * B / 3.0  # disparity 3 px everywhere
    left, right = texture(), np.zeros((32, 64, 3), np.uint8)
    depth = np.full((32, 64), z, np.float32)
    out, mask = reproject_right(left, right, depth, depth, PairGeometry(FX * B))
    # right pixel x sees what the left eye shows at x + 3
    assert np.array_equal(out[:, :60], left[:, 3:63])
    assert mask[:, :60].all() and not mask[:, 61:].any()  # past the left image: own pixels
    assert (out[:, 61:] == 0).all()


def test_points_the_left_eye_cannot_see_keep_the_right_translation() -> None:
    z = FX * B / 4.0
    left, right = texture(seed=1), texture(seed=2)
    d_left = np.full((32, 64), z, np.float32)
    d_left[:, 20:30] = z / 2  # a near object in front of the plane in the left view
    d_right = np.full((32, 64), z, np.float32)
    out, mask = reproject_right(left, right, d_left, d_right, PairGeometry(FX * B))
    hidden = np.zeros(64, bool)
    hidden[16:26] = True  # right x + 4 in [20, 30): the left eye sees the object there
    hidden[15] = True     # bilinear footprint touches column 20
    assert not mask[:, hidden].any() and mask[:, :15].all()
    assert np.array_equal(out[:, hidden], right[:, hidden])


def test_gazebo_depth_conventions() -> None:
    raw = np.array([[1.0, np.inf, np.nan, 0.0, -2.0]], np.float32)
    assert depth_metres(raw).tolist() == [[1.0, 0.0, 0.0, 0.0, 0.0]]
    mm = depth_metres(np.array([[1500, 0]], np.uint16), "16UC1")
    assert mm.dtype == np.float32 and np.allclose(mm, [[1.5, 0.0]])
    with pytest.raises(ValueError, match="depth encoding 'mono8'"):
        depth_metres(np.zeros((1, 1), np.uint8), "mono8")
    # +inf where nothing is in range: no surface, the right eye's own pixels stay
    left, right = texture(), texture(seed=3)
    far = np.full((32, 64), np.inf, np.float32)
    out, mask = reproject_right(left, right, depth_metres(far), depth_metres(far),
                                PairGeometry(FX * B))
    assert not mask.any() and np.array_equal(out, right)


def msg(array: np.ndarray, encoding: str) -> SimpleNamespace:
    return SimpleNamespace(**numpy_to_image_fields(array, encoding))


def eyes(depth_l: np.ndarray, depth_r: np.ndarray, p_r: list | None = None,
         encoding: str = "32FC1") -> dict:
    p_l, p_r0 = projections()
    return {"left": SimpleNamespace(labels={"/l/depth": msg(depth_l, encoding)},
                                    camera_info=SimpleNamespace(p=p_l)),
            "right": SimpleNamespace(labels={"/r/depth": msg(depth_r, encoding)},
                                     camera_info=SimpleNamespace(p=p_r or p_r0))}


def test_serving_step_rebuilds_counts_and_faults() -> None:
    step = RightFromLeft({"left": "/l/depth", "right": "/r/depth"})
    left, right = texture(), texture(seed=4)
    depth = np.full((32, 64), FX * B / 2.0, np.float32)
    out = step.apply(np.stack([left, right]), eyes(depth, depth), 7)
    assert np.array_equal(out[0], left) and np.array_equal(out[1][:, :61], left[:, 2:63])
    assert step.pairs == 1 and 0.9 < step.covered < 1.0
    # millimetres, as a 16UC1 depth camera writes them
    mm = np.full((32, 64), round(1000 * FX * B / 2.0), np.uint16)
    out = step.apply(np.stack([left, right]), eyes(mm, mm, encoding="16UC1"), 8)
    assert np.array_equal(out[1][:, :61], left[:, 2:63])
    # no baseline: counted, the pair as translated
    _, p_zero = projections(baseline=0.0)
    same = step.apply(np.stack([left, right]), eyes(depth, depth, p_zero), 9)
    assert np.array_equal(same[1], right) and step.no_baseline == 1
    assert step.summary() == ("right eye from the left translation in 2 pairs (95% of its "
                              "pixels on average); 1 pairs without a baseline in camera_info "
                              "kept as translated")
    with pytest.raises(FrameFault, match="size_mismatch.*depth is 8x8, the image 64x32"):
        step.apply(np.stack([left, right]), eyes(depth[:8, :8], depth[:8, :8]), 10)
    bad = eyes(depth, depth)
    bad["right"].labels["/r/depth"].encoding = "mono8"
    bad["right"].labels["/r/depth"].step = 64
    with pytest.raises(FrameFault) as info:
        step.apply(np.stack([left, right]), bad, 11)
    assert info.value.reason == "decode" and info.value.topic == "/r/depth"


def test_plan_switches_it_on_only_with_depth_and_camera_info() -> None:
    base = TopicRequest("/sim/camera", "/realistic/camera", "image_raw", "camera_info",
                        ("segmentation", "depth"))
    plan = StereoRequest(base).plan()
    step, why = right_from_left_for(plan, "depth")
    assert step is not None and dict(step.depth_keys) == {
        "left": "/sim/camera/left/depth", "right": "/sim/camera/right/depth"}
    assert "with depth /sim/camera/left/depth and /sim/camera/right/depth" in why
    assert right_from_left_for(plan, "")[0] is None
    no_depth = StereoRequest(TopicRequest("/sim/camera", "/realistic/camera", "image_raw",
                                          "camera_info", ("segmentation",))).plan()
    step, why = right_from_left_for(no_depth, "depth")
    assert step is None and "/sim/camera/left/depth and /sim/camera/right/depth not carried" \
        in why
    no_info = StereoRequest(TopicRequest("/sim/camera", "/realistic/camera", "image_raw", None,
                                         ("depth",))).plan()
    step, why = right_from_left_for(no_info, "depth")
    assert step is None and "no camera_info for the left and right eye" in why
