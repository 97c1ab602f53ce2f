"""``sim2real-gan simulate`` end to end: bags read back with rosbags, folders, previews."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.io.bag import BagReader
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import stamp_to_ns
from sim2real_gan.sim.config import FRAME_ID, SimConfig, scene_seed_for
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.writers import TOPICS

W, H, N = 48, 40, 3


def _read(path: Path) -> tuple[dict, dict]:
    """Bag -> ({topic: msgtype}, {stamp: {topic: decoded msg}})."""
    by_stamp: dict[int, dict] = defaultdict(dict)
    with BagReader(path) as r:
        topics = r.topics
        for m in r.messages():
            msg = m.decode()
            assert stamp_to_ns(msg.header.stamp) == m.stamp_ns  # header stamp = log time
            assert msg.header.frame_id == FRAME_ID
            by_stamp[m.stamp_ns][m.topic] = msg
    return topics, dict(by_stamp)


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_paired_bag_has_every_topic_and_matches_the_simulator(tmp_path: Path, storage: str) -> None:
    out = tmp_path / "bag"
    assert main(["simulate", str(out), "--frames", str(N), "--width", str(W), "--height", str(H),
                 "--seed", "4", "--paired", "--storage", storage, "--no-progress"]) == 0
    topics, frames = _read(out)
    expected = {f"{ns}/{s}" for ns in ("/sim/camera", "/real/camera") for s in TOPICS}
    assert set(topics) == expected
    assert topics["/sim/camera/camera_info"] == "sensor_msgs/msg/CameraInfo"
    assert len(frames) == N
    cfg = SimConfig(width=W, height=H, appearances=("sim", "real"))
    sim_frames = list(EndoscopeSimulator(cfg, scene_seed_for(4, "sim", paired=True)).frames(N))
    for stamp, f in zip(sorted(frames), sim_frames, strict=True):
        msgs = frames[stamp]
        assert set(msgs) == expected and stamp == f.stamp_ns
        for ns, look in (("/sim/camera", "sim"), ("/real/camera", "real")):
            image = msgs[f"{ns}/image_raw"]
            info = msgs[f"{ns}/camera_info"]
            assert (info.width, info.height) == (image.width, image.height) == (W, H)
            np.testing.assert_array_equal(info.k.reshape(3, 3), f.K)
            assert image.encoding == "rgb8"
            np.testing.assert_array_equal(image_to_numpy(image), f.image(look))
            gt = f.ground_truth(look)  # real: background in the scope's black surround
            np.testing.assert_array_equal(image_to_numpy(msgs[f"{ns}/segmentation"]), gt.labels)
            np.testing.assert_array_equal(image_to_numpy(msgs[f"{ns}/depth"]), gt.depth)
            np.testing.assert_array_equal(image_to_numpy(msgs[f"{ns}/uv"]), gt.uv)
            np.testing.assert_array_equal(image_to_numpy(msgs[f"{ns}/flow"]), gt.flow)
            valid = image_to_numpy(msgs[f"{ns}/flow_valid"])
            assert set(np.unique(valid)) <= {0, 255}
            np.testing.assert_array_equal(valid == 255, gt.flow_valid)
            for suffix, (_, enc) in TOPICS.items():
                if enc:
                    assert msgs[f"{ns}/{suffix}"].encoding == enc
        surround = ~f.content_mask
        assert surround.any() and not f.content_mask.all()
        np.testing.assert_array_equal(image_to_numpy(msgs["/sim/camera/segmentation"]), f.labels)
        assert (image_to_numpy(msgs["/real/camera/segmentation"])[surround] == 0).all()
        assert (f.labels[surround] != 0).any()  # the scene is there, the real image hides it


def test_unpaired_real_bag_uses_its_own_scene_and_namespace(tmp_path: Path) -> None:
    sim_bag, real_bag = tmp_path / "sim", tmp_path / "real"
    common = ["--frames", "2", "--width", str(W), "--height", str(H), "--no-progress"]
    assert main(["simulate", str(sim_bag), *common]) == 0
    assert main(["simulate", str(real_bag), "--appearance", "real", *common]) == 0
    sim_topics, sim_frames = _read(sim_bag)
    real_topics, real_frames = _read(real_bag)
    assert all(t.startswith("/sim/camera/") for t in sim_topics)
    assert all(t.startswith("/real/camera/") for t in real_topics)
    first = min(sim_frames)
    a = image_to_numpy(sim_frames[first]["/sim/camera/segmentation"])
    b = image_to_numpy(real_frames[first]["/real/camera/segmentation"])
    assert not np.array_equal(a, b)  # unpaired: different scenes
    assert main(["simulate", str(tmp_path / "ns"), "--ns", "/endo/cam", *common]) == 0
    assert all(t.startswith("/endo/cam/") for t in _read(tmp_path / "ns")[0])


def test_folder_output_and_preview(tmp_path: Path) -> None:
    out, preview = tmp_path / "seq", tmp_path / "p" / "preview.png"
    assert main(["simulate", str(out), "--frames", "2", "--width", str(W), "--height", str(H),
                 "--format", "folder", "--paired", "--preview", str(preview),
                 "--no-progress"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [".sim2real_gan-output.json",
                     "000000.npz", "000000_labels.png", "000000_real.png", "000000_sim.png",
                     "000001.npz", "000001_labels.png", "000001_real.png", "000001_sim.png",
                     "content_mask.png", "meta.json"]
    mask = cv2.imread(str(out / "content_mask.png"), cv2.IMREAD_UNCHANGED)
    sim = EndoscopeSimulator(SimConfig(width=W, height=H), scene_seed_for(0, "sim", paired=True))
    np.testing.assert_array_equal(mask == 255, sim.content_mask)
    assert set(np.unique(mask)) == {0, 255}
    meta = json.loads((out / "meta.json").read_text())
    assert meta["frames"] == 2 and meta["appearances"] == ["sim", "real"]
    with np.load(out / "000001.npz") as z:
        assert z["depth"].shape == (H, W) and z["uv"].shape == (H, W, 2)
        assert z["flow"].dtype == np.float32 and z["flow_valid"].dtype == bool
        assert z["K"].shape == (3, 3)
    labels = cv2.imread(str(out / "000001_labels.png"), cv2.IMREAD_UNCHANGED)
    assert labels.shape == (H, W) and labels.max() <= 7
    strip = cv2.imread(str(preview))
    assert strip.shape == (2 * H, 4 * W, 3)
    assert not list(tmp_path.glob(".*"))  # no temporary leftovers


def test_errors_are_clear(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "bag"
    args = ["simulate", str(out), "--frames", "1", "--width", str(W), "--height", str(H),
            "--no-progress"]
    assert main(args) == 0
    assert main(args) == 2 and "already exists" in caplog.text
    assert main([*args, "--force"]) == 0
    assert main(["simulate", str(tmp_path / "x"), "--paired", "--ns", "/a/b"]) == 2
    assert "--paired" in caplog.text
    assert main(["simulate", str(tmp_path / "y"), "--ns", "not a namespace", "--frames", "1",
                 "--width", str(W), "--height", str(H), "--no-progress"]) == 2
    assert "namespace" in caplog.text and not (tmp_path / "y").exists()
    assert main(["simulate", str(tmp_path / "z"), "--width", "4"]) == 2
    assert "width" in caplog.text
    with pytest.raises(SystemExit):
        main(["simulate", str(tmp_path / "w"), "--frames", "0"])
    assert not list(tmp_path.glob(".*"))
