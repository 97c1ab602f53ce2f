"""`sim2real-gan evaluate --sim-bag --footage`: a user's own simulator bag against the user's
own footage, end to end on stand-ins (sim2real_gan.sim.gazebo_like) with the shipped model,
plus the framing geometry and the estimated flow it relies on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.eval.framing import Framing, content_box, eval_size
from sim2real_gan.flow import Camera

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "default"
W, H, N, SEED = 64, 48, 12, 3


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Gazebo-shaped bag (no flow), a simulator bag (ground-truth flow), tower footage."""
    from sim2real_gan.sim.gazebo_like import write_footage, write_gazebo_bag

    root = tmp_path_factory.mktemp("own")
    write_gazebo_bag(root / "gz_bag", frames=N, seed=SEED, width=W, height=H)
    write_footage(root / "hospital.mp4", frames=20, width=128, height=96)
    assert main(["simulate", str(root / "sim_bag"), "--frames", str(N), "--width", str(W),
                 "--height", str(H), "--no-progress"]) == 0
    return {"gz": root / "gz_bag", "sim": root / "sim_bag", "footage": root / "hospital.mp4"}


def test_framing_crops_to_the_aspect_and_scales_flow_and_cameras() -> None:
    fr = Framing.centre((48, 64), (32, 32))
    assert fr.box == (0, 8, 48, 48)
    img = np.arange(48 * 64 * 3, dtype=np.uint8).reshape(48, 64, 3)
    assert fr.image(img).shape == (32, 32, 3) and fr.nearest(img[..., 0]).shape == (32, 32)
    flow = np.full((48, 64, 2), 3.0, np.float32)
    assert np.allclose(fr.flow(flow), 2.0)  # 48 px -> 32 px: vectors scale by 2/3
    k = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    cam = fr.camera(Camera(k, np.eye(4), (48, 64)))
    point = np.array([0.01, -0.02, 0.1])          # a point in front of the camera
    u, v, w = k @ point
    x, y = u / w - 8, v / w                       # its pixel inside the crop
    fu, fv, fw = cam.K @ point                    # ... and in the framed image
    assert np.allclose([fu / fw, fv / fw], [(x + 0.5) * 32 / 48 - 0.5, (y + 0.5) * 32 / 48 - 0.5])
    with pytest.raises(ValueError, match="expected 64x48"):
        fr.image(img[:40])
    assert eval_size(64, (90, 120)) == (48, 64)
    assert content_box(np.eye(4, dtype=bool)) == (0, 0, 4, 4)
    with pytest.raises(ValueError, match="multiple of 8"):
        eval_size(60, (10, 10))


def test_estimated_flow_of_a_gazebo_bag_scores_like_ground_truth(data) -> None:
    """The flow estimated on a Gazebo recording's framed frames (depth + /tf camera motion,
    labels for the footprint check) is accurate where both are valid, and the warping error
    of the raw sim frames with it is close to the one with the simulator's ground truth."""
    from sim2real_gan.eval.own_data import ClipPlan, load_sim_clips
    from sim2real_gan.eval.temporal import warping_error
    from sim2real_gan.sim.config import SimConfig, scene_seed_for
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    clips = load_sim_clips(data["gz"], ClipPlan(clips=1, clip_frames=N), (48, 48))
    assert clips.flow_kind == "estimated flow" and "depth/camera-motion" in clips.info["flow_note"]
    truth = list(EndoscopeSimulator(SimConfig(width=W, height=H), scene_seed_for(SEED, "sim"))
                 .frames(N))
    fr = Framing.centre((H, W), (48, 48))
    gt_flow = np.stack([fr.flow(f.flow) for f in truth[:-1]])
    gt_valid = np.stack([fr.nearest(f.flow_valid) for f in truth[:-1]])
    assert np.array_equal(clips.labels[0], np.stack([fr.nearest(f.labels) for f in truth]))
    both = clips.valid[0] & gt_valid
    assert np.linalg.norm(clips.flow[0] - gt_flow, axis=-1)[both].mean() < 0.1  # px
    assert both.sum() > 0.85 * gt_valid.sum()
    est = warping_error(clips.rgb[0], clips.flow[0], clips.valid[0]).mean
    gt = warping_error(clips.rgb[0], gt_flow, gt_valid).mean
    assert 0.5 * gt < est < 1.25 * gt, (est, gt)


def test_clips_carry_what_the_bag_records(data) -> None:
    from sim2real_gan.eval.data import Sequences
    from sim2real_gan.eval.own_data import ClipPlan, load_sim_clips

    plan = ClipPlan(clips=2, clip_frames=3, profile_frames=5)
    sim = load_sim_clips(data["sim"], plan, (32, 40))
    assert sim.rgb.shape == (2, 3, 32, 40, 3) and sim.uv.shape == (2, 3, 32, 40, 2)
    assert sim.flow.shape == (2, 2, 32, 40, 2) and sim.flow_kind == "ground-truth flow"
    assert sim.profile["image"].shape == (5, 32, 40, 3) and "uv" in sim.profile
    gz = load_sim_clips(data["gz"], plan, (32, 40))
    assert gz.uv is None and gz.depth is not None and gz.info["topics"]["labels"].endswith(
        "labels_map")
    with pytest.raises(ValueError, match="model m reads the 'uv' input, which bag gz does not"):
        Sequences(rgb={"sim": gz.rgb}, where="bag gz").aux("uv", "m")
    with pytest.raises(ValueError, match="--stride must be 1"):
        load_sim_clips(data["sim"], ClipPlan(stride=2), (32, 40))
    est = load_sim_clips(data["sim"], ClipPlan(clips=1, clip_frames=3, stride=2,
                                               flow="estimate"), (32, 40))
    assert est.flow_kind == "estimated flow" and est.info["stride"] == 2


def _run(out: Path, cache: Path, bag: Path, footage: Path, *extra: str) -> int:
    return main(["evaluate", "--sim-bag", str(bag), "--footage", str(footage), "--model",
                 f"ours={DEFAULT_MODEL}", "--out", str(out), "--profile", "quick", "--size",
                 "32", "--max-frames", "8", "--frames", "4", "--footage-frames", "16",
                 "--threads", "1", "--no-progress", "--cache-dir", str(cache), *extra])


@pytest.mark.slow
@pytest.mark.parametrize("kind,flow", [("gz", "estimated flow"), ("sim", "ground-truth flow")])
def test_evaluate_own_data_writes_the_report(data, tmp_path: Path, kind: str, flow: str) -> None:
    out = tmp_path / "report"
    assert _run(out, tmp_path / "cache", data[kind], data["footage"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"metrics.json", "report.md", "report.html", "frames.png", "temporal_profile.png",
            "summary.png", "iou.png", ".sim2real_gan-output.json"} <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]
    m = json.loads((out / "metrics.json").read_text())
    assert m["kind"] == "own-data" and list(m["methods"]) == ["no translation", "ours"]
    assert m["data"]["sim"]["flow"] == flow and m["reference"]["flow"] == flow
    assert m["data"]["eval_size"] == [32, 32]  # the round scope opening: a square box
    raw, ours = m["methods"]["no translation"], m["methods"]["ours"]
    assert raw["ssim"] == pytest.approx(1.0) and raw["tof"] == 0.0
    assert ours["ssim"] < 1.0 and ours["method"]["kind"] == "artifact"
    for meth in (raw, ours):
        for key in ("warping_error", "kid", "fid", "domain_accuracy"):
            assert math.isfinite(meth[key]), key
        assert 0.0 <= meth["label_preservation"]["miou"] <= 1.0
    assert m["class_ids"] and set(m["class_ids"]) <= set(range(8))
    report = (out / "report.md").read_text()
    assert f"warp err, {flow}" in report and flow in report


@pytest.mark.slow
def test_evaluate_own_data_without_labels_and_force(data, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert _run(out, tmp_path / "cache", data["gz"], data["footage"], "--labels-topic", "",
                "--footage-mask", "off") == 0
    m = json.loads((out / "metrics.json").read_text())
    assert "label_preservation" not in m["methods"]["ours"]
    assert "no labels" in m["reference"]["label_preservation"]["note"]
    assert m["data"]["footage"]["mask_method"] == "off"
    assert not (out / "iou.png").exists()
    assert _run(out, tmp_path / "cache", data["gz"], data["footage"]) == 2   # exists: no --force
    assert _run(out, tmp_path / "cache", data["gz"], data["footage"], "--force") == 0


def test_own_data_flags_are_checked_against_the_protocol(data, tmp_path: Path, caplog) -> None:
    out = tmp_path / "r"
    code = main(["evaluate", "--sim-bag", str(data["gz"]), "--out", str(out)])
    assert code == 2 and "--sim-bag needs --footage" in caplog.text
    code = main(["evaluate", "--sim-bag", str(data["gz"]), "--footage", str(data["footage"]),
                 "--test-sequences", "3", "--out", str(out)])
    assert code == 2 and "--test-sequences is for the built-in simulator protocol" in caplog.text
    code = main(["evaluate", "--footage", str(data["footage"]), "--out", str(out)])
    assert code == 2 and "--footage needs --sim-bag" in caplog.text
    code = main(["evaluate", "--sim-bag", str(data["gz"]), "--footage", str(data["footage"]),
                 "--stereo", "--out", str(out)])
    assert code == 2 and "--stereo is the built-in stereo protocol" in caplog.text
    assert not out.exists()
