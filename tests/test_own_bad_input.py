"""Bad own data for `evaluate --sim-bag --footage` and `dump` (#12 item 7): each case is one
error line naming the file or topic and what was expected, exit status 2, no output folder,
nothing else written, the inputs byte-identical."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from sim2real_gan.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "default"
NS = "/endoscope"


def _tree(root: Path) -> dict[str, str]:
    out = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(base) / name
            out[p.relative_to(root).as_posix()] = "dir" if p.is_dir() else \
                hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_bag(path: Path, image: bool = True, label_offset_ns: int = 0,
              label_size: int = 32, frames: int = 6) -> Path:
    """A camera bag with image (rgb8 32x32) and labels (mono8) topics, or no image topic."""
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header

    rng = np.random.default_rng(0)
    with BagWriter(path) as w:
        if image:
            w.add_topic(f"{NS}/image", "sensor_msgs/msg/Image")
        w.add_topic(f"{NS}/seg/labels_map", "sensor_msgs/msg/Image")
        w.add_topic(f"{NS}/camera_info", "sensor_msgs/msg/CameraInfo")
        for i in range(frames):
            stamp = 500_000_000 + i * 33_333_333
            h = make_header(stamp, "endoscope::tip::rgb")
            if image:
                w.write(f"{NS}/image", stamp, image_msg(
                    rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "rgb8", h))
            lab = rng.integers(0, 4, (label_size, label_size, 3), dtype=np.uint8)
            w.write(f"{NS}/seg/labels_map", stamp + 1, image_msg(
                lab, "rgb8", make_header(stamp + label_offset_ns, "endoscope::tip::seg")))
            w.write(f"{NS}/camera_info", stamp + 2, camera_info_msg(np.eye(3), 32, 32, h))
    return path


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim2real_gan.sim.gazebo_like import write_footage

    return write_footage(tmp_path_factory.mktemp("ft") / "hospital.mp4", frames=12, width=96,
                         height=72).path


def _refused(work: Path, caplog, argv: list[str], *words: str) -> None:
    before = _tree(work)
    caplog.clear()
    assert main(argv) == 2
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sim2real-gan")]
    assert len(lines) == 1 and "\n" not in lines[0] and "Traceback" not in caplog.text, lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert _tree(work) == before  # nothing written, inputs byte-identical
    assert not (work / "out").exists()


def _evaluate(work: Path, bag: Path, footage: Path) -> list[str]:
    return ["evaluate", "--sim-bag", str(bag), "--footage", str(footage), "--model",
            f"ours={DEFAULT_MODEL}", "--out", str(work / "out"), "--profile", "quick",
            "--size", "32", "--threads", "1", "--no-progress", "--cache-dir", str(work / "cache")]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_footage_that_is_not_a_video(work, caplog) -> None:
    bag = write_bag(work / "bag")
    fake = work / "hospital.mp4"
    fake.write_text("not a video\n")
    _refused(work, caplog, _evaluate(work, bag, fake), "hospital.mp4", "cannot open it as a video")


def test_video_with_zero_frames(work, caplog) -> None:
    bag = write_bag(work / "bag")
    empty = work / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 15, (64, 48))
    writer.release()  # a valid container holding no frame
    _refused(work, caplog, _evaluate(work, bag, empty), "empty.avi", "0 decodable frame",
             "expected at least 4")


def test_footage_folder_without_images(work, caplog) -> None:
    bag = write_bag(work / "bag")
    (work / "frames").mkdir()
    (work / "frames" / "notes.txt").write_text("x")
    _refused(work, caplog, _evaluate(work, bag, work / "frames"), "frames", "has no images")


def test_bag_without_images(work, footage, caplog) -> None:
    bag = write_bag(work / "bag", image=False)
    _refused(work, caplog, _evaluate(work, bag, footage), "bag", "no camera image topic",
             "/endoscope/seg/labels_map")
    _refused(work, caplog, ["dump", str(bag), str(work / "out"), "--topics", "/endoscope/depth"],
             "/endoscope/depth", "not an image topic")


def test_bag_with_no_image_topics_at_all_for_dump(work, caplog) -> None:
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import camera_info_msg, make_header

    bag = work / "info_only"
    with BagWriter(bag) as w:
        w.add_topic(f"{NS}/camera_info", "sensor_msgs/msg/CameraInfo")
        w.write(f"{NS}/camera_info", 1, camera_info_msg(np.eye(3), 8, 8, make_header(1, "c")))
    _refused(work, caplog, ["dump", str(bag), str(work / "out")], "info_only",
             "has no image topics", "camera_info")


def test_labels_that_never_match_an_image_stamp(work, footage, caplog) -> None:
    bag = write_bag(work / "bag", label_offset_ns=1_000)
    _refused(work, caplog, _evaluate(work, bag, footage), "/endoscope/seg/labels_map",
             "never has the header.stamp of an image", "--labels-topic ''")


def test_label_and_image_sizes_differ(work, footage, caplog) -> None:
    bag = write_bag(work / "bag", label_size=16)
    _refused(work, caplog, _evaluate(work, bag, footage), "/endoscope/seg/labels_map", "16x16",
             "image topic /endoscope/image is 32x32")


def test_missing_inputs(work, footage, caplog) -> None:
    bag = write_bag(work / "bag")
    _refused(work, caplog, _evaluate(work, work / "nope", footage), "nope")
    _refused(work, caplog, _evaluate(work, bag, work / "nope.mp4"), "--footage", "nope.mp4")
    _refused(work, caplog, _evaluate(work, bag, footage) + ["--footage-mask", "m.png"],
             "--footage-mask", "m.png")
    _refused(work, caplog, ["dump", str(work / "nope"), str(work / "out")], "nope")


def test_short_bag_shrinks_the_clip_plan_with_a_warning(tmp_path: Path, caplog) -> None:
    """A bag shorter than the asked clips is scored on what it has, and says so."""
    from sim2real_gan.eval.own_data import ClipPlan, load_sim_clips

    bag = write_bag(tmp_path / "short", frames=4)
    clips = load_sim_clips(bag, ClipPlan(clips=2, clip_frames=8), (32, 32))
    assert clips.info["clips"] == 1 and clips.info["clip_frames"] == 4 and clips.rgb.shape[:2] == (1, 4)
    assert "asked for 2 clips x 8 frames, the bag gives 1 x 4" in caplog.text
