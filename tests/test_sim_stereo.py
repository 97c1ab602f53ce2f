"""Stereo scope: ground-truth disparity checked against geometry, eye poses, bags (tiny sizes)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.io.bag import BagReader
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import stamp_to_ns
from sim2real_gan.sim.config import EYE_FRAME_IDS, SimConfig, StereoConfig, scene_seed_for
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.stereo_writers import stereo_topics

W, H = 128, 96
B = 0.005


def _pairs(conv: float | None = None, seed: int = 3, n: int = 2, start: int = 20,
           lighting: str = "world", **kw: object) -> list:
    cfg = SimConfig(width=W, height=H, lighting=lighting, instruments=2,
                    stereo=StereoConfig(baseline_m=B, convergence_m=conv), **kw)
    return list(EndoscopeSimulator(cfg, seed).stereo_frames(n, start=start))


def _to_left(img: np.ndarray, disparity: np.ndarray, interp: int = cv2.INTER_LINEAR
             ) -> np.ndarray:
    """Sample the right image at (x - d, y): brings it onto the left image's pixels."""
    mx = np.arange(W, dtype=np.float32)[None, :] - disparity
    my = np.repeat(np.arange(H, dtype=np.float32)[:, None], W, 1)
    return cv2.remap(img, mx, my, interp, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("conv, lighting", [(None, "world"), (0.06, "world"), (None, "camera")])
def test_warping_right_into_left_with_gt_disparity_reproduces_left(conv: float | None,
                                                                    lighting: str) -> None:
    """The sim look is Lambertian: with a world-fixed light, or with the one light on the
    scope tip between the eyes (not one light per eye, which alone would cost ~2.4/255
    here), a surface point has one colour in both eyes, so the right image sampled at x - d
    matches the left one on valid pixels; 1.5 px off is far worse."""
    for sf in _pairs(conv, n=3, lighting=lighting):
        v = sf.disparity_valid
        left = sf.left.image().astype(np.float32)
        right = sf.right.image().astype(np.float32)
        err = np.abs(_to_left(right, sf.disparity) - left)[v].mean() / 255
        off = np.abs(_to_left(right, sf.disparity + 1.5) - left)[v].mean() / 255
        none = np.abs(right - left)[v].mean() / 255
        assert 0.8 < v.mean() < 0.995
        assert err < 1.5 / 255 and off > 4 * err and none > 4 * err
        same = (_to_left(sf.right.labels, sf.disparity, cv2.INTER_NEAREST) == sf.left.labels)[v]
        assert same.mean() > 0.97


def test_disparity_is_fx_b_over_z_and_zero_at_convergence() -> None:
    (par,), (con,) = _pairs(None, n=1), _pairs(0.06, n=1)
    hit = par.left.depth > 0
    fx = par.left.K[0, 0]
    np.testing.assert_allclose(par.disparity[hit], fx * B / par.left.depth[hit], rtol=1e-5)
    assert (par.disparity[~hit] == 0).all() and not par.disparity_valid[~hit].any()
    np.testing.assert_array_equal(par.left.K, par.right.K)
    # converged: principal points move apart by fx * B / 0.06; disparity 0 at 6 cm depth
    assert con.right.K[0, 2] - con.left.K[0, 2] == pytest.approx(fx * B / 0.06)
    near = np.abs(con.left.depth - 0.06) < 0.0005
    assert near.any() and np.abs(con.disparity[near]).max() < fx * B * 0.0005 / 0.059 ** 2 + 1e-3
    assert (con.disparity[hit & (con.left.depth > 0.07)] < 0).all()


def test_eyes_are_one_baseline_apart_with_identical_stamps_and_orientation() -> None:
    for sf in _pairs(n=2):
        tl, tr = sf.left.cam_pose, sf.right.cam_pose
        np.testing.assert_allclose(tr[:3, :3], tl[:3, :3])
        np.testing.assert_allclose(tr[:3, 3] - tl[:3, 3], B * tl[:3, 0], atol=1e-12)
        assert sf.left.stamp_ns == sf.right.stamp_ns == sf.stamp_ns
        assert sf.left.index == sf.right.index == sf.index


def test_occlusion_mask_marks_what_the_right_eye_cannot_see() -> None:
    sf = _pairs(n=1, start=40)[0]
    d, v = sf.disparity, sf.disparity_valid
    xr = np.arange(W)[None, :] - d
    hit = sf.left.depth > 0
    assert not v[hit & (xr < 0)].any()  # lands left of the right image
    assert (xr[hit & (np.arange(W)[None, :] > 10)] >= 0).all()
    # valid pixels: the right eye sees the same depth there
    zr = _to_left(sf.right.depth, d)
    assert np.abs(zr - sf.left.depth)[v].max() < 0.006 * sf.left.depth.max() + 0.0003
    # inside the right view but invalid: mostly occluded (something nearer in the right eye)
    # or the silhouette of another surface
    inside = hit & ~v & (xr >= 1) & (xr <= W - 2)
    occluded = (zr < sf.left.depth - 0.001) | (_to_left(sf.right.labels, d, cv2.INTER_NEAREST)
                                               != sf.left.labels)
    assert inside.any() and occluded[inside].mean() > 0.5


def test_stereo_is_deterministic_and_random_access() -> None:
    cfg = SimConfig(width=64, height=48, appearances=("sim", "real"), stereo=StereoConfig())
    a = list(EndoscopeSimulator(cfg, 5).stereo_frames(3))
    b = next(EndoscopeSimulator(cfg, 5).stereo_frames(1, start=2))
    for x, y in ((a[2].left, b.left), (a[2].right, b.right)):
        for name in ("labels", "depth", "uv", "flow", "flow_valid"):
            assert np.array_equal(getattr(x, name), getattr(y, name)), name
        assert all(np.array_equal(x.image(k), y.image(k)) for k in ("sim", "real"))
    assert np.array_equal(a[2].disparity, b.disparity)
    assert np.array_equal(a[2].disparity_valid, b.disparity_valid)
    # two sensors: the real images' noise differs between the eyes
    assert not np.array_equal(a[0].left.image("real"), a[0].right.image("real"))


def test_mono_and_stereo_apis_refuse_each_other() -> None:
    mono = EndoscopeSimulator(SimConfig(width=32, height=24), 1)
    stereo = EndoscopeSimulator(SimConfig(width=32, height=24, stereo=StereoConfig()), 1)
    with pytest.raises(ValueError, match="stereo_frames"):
        next(stereo.frames(1))
    with pytest.raises(ValueError, match="StereoConfig"):
        next(mono.stereo_frames(1))
    with pytest.raises(ValueError, match="eye"):
        stereo.geometry(0, "middle")
    for kwargs, match in (({"baseline_m": 0.0}, "baseline"), ({"baseline_m": 0.2}, "baseline"),
                          ({"convergence_m": 0.0}, "convergence")):
        with pytest.raises(ValueError, match=match):
            StereoConfig(**kwargs)


def _read(path: Path) -> tuple[dict, dict]:
    by_stamp: dict[int, dict] = defaultdict(dict)
    with BagReader(path) as r:
        topics = r.topics
        for m in r.messages():
            msg = m.decode()
            assert stamp_to_ns(msg.header.stamp) == m.stamp_ns
            by_stamp[m.stamp_ns][m.topic] = msg
    return topics, dict(by_stamp)


def test_stereo_bag_has_the_stereo_image_proc_layout(tmp_path: Path) -> None:
    out = tmp_path / "bag"
    assert main(["simulate", str(out), "--stereo", "--paired", "--frames", "2", "--width", "64",
                 "--height", "48", "--seed", "2", "--baseline-mm", "4", "--no-progress"]) == 0
    topics, frames = _read(out)
    expected = set(stereo_topics("/sim/camera") + stereo_topics("/real/camera"))
    assert set(topics) == expected and "/sim/camera/left/disparity" in topics
    cfg = SimConfig(width=64, height=48, appearances=("sim", "real"),
                    stereo=StereoConfig(baseline_m=0.004))
    sim = EndoscopeSimulator(cfg, scene_seed_for(2, "sim", paired=True))
    for stamp, sf in zip(sorted(frames), sim.stereo_frames(2), strict=True):
        msgs = frames[stamp]
        assert set(msgs) == expected and stamp == sf.stamp_ns  # one stamp for both eyes
        for ns, look in (("/sim/camera", "sim"), ("/real/camera", "real")):
            li, ri = msgs[f"{ns}/left/camera_info"], msgs[f"{ns}/right/camera_info"]
            fx = sf.left.K[0, 0]
            assert li.p[3] == 0.0 and ri.p[3] == pytest.approx(-fx * 0.004) and ri.p[7] == 0.0
            np.testing.assert_array_equal(ri.k.reshape(3, 3), sf.right.K)
            for eye, f in (("left", sf.left), ("right", sf.right)):
                img = msgs[f"{ns}/{eye}/image_raw"]
                assert img.header.frame_id == EYE_FRAME_IDS[eye]
                np.testing.assert_array_equal(image_to_numpy(img), f.image(look))
                np.testing.assert_array_equal(image_to_numpy(msgs[f"{ns}/{eye}/segmentation"]),
                                              f.ground_truth(look).labels)
            d, v = sf.disparity_for(look)
            np.testing.assert_array_equal(image_to_numpy(msgs[f"{ns}/left/disparity"]), d)
            valid = image_to_numpy(msgs[f"{ns}/left/disparity_valid"])
            assert msgs[f"{ns}/left/disparity"].encoding == "32FC1"
            assert set(np.unique(valid)) <= {0, 255}
            np.testing.assert_array_equal(valid == 255, v)
        _, v_real = sf.disparity_for("real")
        assert (v_real <= sf.disparity_valid).all() and not v_real[~sf.left.content_mask].any()


def test_stereo_folder_and_preview(tmp_path: Path) -> None:
    out, preview = tmp_path / "seq", tmp_path / "p.png"
    assert main(["simulate", str(out), "--stereo", "--format", "folder", "--frames", "2",
                 "--width", "48", "--height", "40", "--convergence-mm", "60",
                 "--preview", str(preview), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".sim2real_gan-output.json",
                                                     "content_mask.png", "left", "meta.json",
                                                     "right"]
    with np.load(out / "left" / "000001.npz") as z:
        assert z["disparity"].shape == (40, 48) and z["disparity_valid"].dtype == bool
    assert (out / "right" / "000001_sim.png").is_file()
    assert cv2.imread(str(preview)).shape == (2 * 40, 4 * 48, 3)  # 2 frames: 2 rows


def test_stereo_cli_errors_are_clear(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert main(["simulate", str(tmp_path / "a"), "--baseline-mm", "3", "--frames", "1",
                 "--no-progress"]) == 2
    assert "--stereo" in caplog.text
    caplog.clear()
    assert main(["simulate", str(tmp_path / "b"), "--look", "glare=on", "--frames", "1",
                 "--no-progress"]) == 2
    assert "--look" in caplog.text and "field_stop" in caplog.text
    caplog.clear()
    assert main(["simulate", str(tmp_path / "c"), "--stereo", "--baseline-mm", "80",
                 "--frames", "1", "--no-progress"]) == 2
    assert "--baseline-mm must be in (0, 50] mm, got 80" in caplog.text
    assert not any((tmp_path / n).exists() for n in "abc")
