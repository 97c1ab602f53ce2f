"""translate-bag on hostile bags: swapped stamps, a simulator reset, and per-frame faults
(garbage CDR, truncated data, an encoding change, labels/camera_info of another size) that
are skipped and counted instead of aborting the run."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.io.bag import BagReader, BagWriter, cdr_header_stamp_ns
from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header
from sim2real_gan.pipeline.bag_translate import BagTranslateConfig, translate_bag
from sim2real_gan.pipeline.message_step import MessageTranslator

NS, OUT = "/sim/camera", "/realistic/camera"
H, W = 8, 12
MS = 1_000_000
TYPES = {"image_raw": "sensor_msgs/msg/Image", "camera_info": "sensor_msgs/msg/CameraInfo",
         "segmentation": "sensor_msgs/msg/Image", "depth": "sensor_msgs/msg/Image"}


def frame_msgs(stamp: int, size: tuple[int, int] = (H, W), encoding: str = "rgb8") -> dict:
    """One frame: every message records its stamp in its pixels too (value = frame index)."""
    h = make_header(stamp, "cam")
    value = (stamp // (33 * MS)) % 256
    img = np.full((H, W, 3), value, np.uint8)
    image = (image_msg(np.full((H, W), value, np.uint16), "16UC1", h) if encoding == "16UC1"
             else image_msg(img, encoding, h))
    return {"image_raw": image,
            "camera_info": camera_info_msg(np.eye(3), size[1], size[0], h),
            "segmentation": image_msg(np.full(size, value, np.uint8), "mono8", h),
            "depth": image_msg(np.full((H, W), 0.5, np.float32), "32FC1", h)}


def write_bag(path: Path, frames: list[dict], order=("segmentation", "image_raw", "camera_info",
                                                      "depth")) -> None:
    """Frames in the given list order; a value may be raw bytes (written as is)."""
    with BagWriter(path) as w:
        for suffix, t in TYPES.items():
            w.add_topic(f"{NS}/{suffix}", t)
        log_ns = 1
        for msgs in frames:
            for suffix in order:
                msg = msgs[suffix]
                log_ns += 1000
                if isinstance(msg, bytes):
                    w.write_raw(f"{NS}/{suffix}", log_ns, msg)
                else:
                    w.write(f"{NS}/{suffix}", log_ns, msg)


def serialize(msg, msgtype: str = "sensor_msgs/msg/Image") -> bytes:
    from sim2real_gan.io.ros_types import typestore

    return bytes(typestore().serialize_cdr(msg, msgtype))


def identity(rgb: np.ndarray, **aux) -> np.ndarray:
    return rgb


def _stamps(path: Path, topic: str) -> list[int]:
    with BagReader(path) as r:
        return [cdr_header_stamp_ns(m.raw) for m in r.messages([topic])]


def _translate(tmp_path: Path, frames: list[dict], **cfg) -> tuple:
    write_bag(tmp_path / "in", frames)
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(identity),
                           BagTranslateConfig(progress=False, **cfg))
    return report


def _aligned(path: Path) -> list[int]:
    """Every output topic carries exactly the translated images' stamps, in the same order."""
    images = _stamps(path, f"{OUT}/image_raw")
    for suffix in ("camera_info", "segmentation", "depth"):
        assert _stamps(path, f"{OUT}/{suffix}") == images, suffix
    return images


def test_swapped_stamps_keep_every_frame(tmp_path: Path) -> None:
    stamps = [2_000 * MS + i * 33 * MS for i in range(10)]
    order = stamps[:4] + [stamps[5], stamps[4]] + stamps[6:]
    report = _translate(tmp_path, [frame_msgs(s) for s in order])
    assert (report.frames_out, report.frames_in) == (10, 10) and report.verdict() is None
    assert report.stats.frame_drops == {} and report.stats.reordered == 1
    assert _aligned(tmp_path / "out") == order  # every frame, each at its input log time


def test_a_reset_starts_an_episode_and_keeps_the_frames_after_it(tmp_path: Path) -> None:
    """Stamps jump back from 5 s to 0: every frame of both episodes is translated; labels of
    the first post-reset frame were logged before its image."""
    a = [5_000 * MS + i * 33 * MS for i in range(6)]
    b = [i * 33 * MS for i in range(6)]
    write_bag(tmp_path / "in", [frame_msgs(s) for s in a] + [frame_msgs(s) for s in b],
              order=("segmentation", "camera_info", "image_raw", "depth"))
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(identity),
                           BagTranslateConfig(progress=False))
    assert report.frames_out == 12 and report.stats.frame_drops == {}
    assert (report.stats.resets, report.stats.episodes) == (1, 2)
    assert _aligned(tmp_path / "out") == a + b
    with BagReader(tmp_path / "out") as r:  # pixels: each image kept its own labels' frame
        segs = [m.decode() for m in r.messages([f"{OUT}/segmentation"])]
        imgs = [m.decode() for m in r.messages([f"{OUT}/image_raw"])]
    for seg, img in zip(segs, imgs, strict=True):
        assert seg.header == img.header and seg.data[0] == img.data[0]


def test_per_frame_faults_are_counted_skips(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    stamps = [1_000 * MS + i * 33 * MS for i in range(12)]
    frames = [frame_msgs(s) for s in stamps]
    truncated = frame_msgs(stamps[1])["image_raw"]
    truncated.data = truncated.data[:10]                      # pixel data cut short
    frames[1]["image_raw"] = truncated
    frames[2]["image_raw"] = serialize(frame_msgs(stamps[2])["image_raw"])[:40]  # garbage CDR
    frames[3] = frame_msgs(stamps[3], encoding="16UC1")        # encoding change mid-stream
    frames[4]["segmentation"] = frame_msgs(stamps[4], size=(H, W + 2))["segmentation"]
    frames[5]["camera_info"] = frame_msgs(stamps[5], size=(H + 1, W))["camera_info"]
    frames[6]["depth"] = b"\x00\x01\x00\x00" + b"\xff" * 7      # a label that is not CDR
    with caplog.at_level(logging.WARNING):
        report = _translate(tmp_path, frames, hold_ns=100 * MS)
    good = [s for i, s in enumerate(stamps) if i not in range(1, 7)]
    assert report.frames_out == 6 and _aligned(tmp_path / "out") == good
    assert report.stats.frame_drops == {"decode": 3, "size_mismatch": 2, "incomplete": 1}
    # the unreadable depth (no stamp) is counted as a message; parts that came after an
    # image whose frame was dropped are late
    assert report.stats.message_drops_by_key == {f"{NS}/depth": {"decode": 1, "late": 1},
                                                 "camera_info": {"late": 1}}
    assert f"late 2 ({NS}/camera_info 1, {NS}/depth 1)" in report.reasons()
    lines = [r.getMessage() for r in caplog.records if "frame skipped" in r.getMessage()]
    assert len(lines) == 6
    expect = [(f"{NS}/image_raw", stamps[1], "decode"), (f"{NS}/image_raw", stamps[2], "decode"),
              (f"{NS}/image_raw", stamps[3], "decode: cannot use '16UC1' as a colour image"),
              (f"{NS}/segmentation", stamps[4], "size_mismatch: label is 14x8, its image 12x8"),
              (f"{NS}/camera_info", stamps[5], "size_mismatch: camera_info is 12x9"),
              (f"{NS}/depth", None, "decode")]
    for (topic, stamp, what), line in zip(expect, sorted(lines, key=_line_order), strict=True):
        when = "unknown stamp" if stamp is None else f"{stamp // 10**9}.{stamp % 10**9:09d} s"
        assert f"{topic} @ {when}: {what}" in line
    assert report.verdict() is not None and "6 of 12 frames dropped" in report.verdict()
    assert report.verdict(0.5) is None


def _line_order(line: str) -> tuple:
    order = ["image_raw @ 1.033", "image_raw @ 1.066", "image_raw @ 1.099", "segmentation",
             "camera_info", "depth"]
    return next(i for i, key in enumerate(order) if key in line),


def test_many_faults_are_rate_limited(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    frames = [frame_msgs(1_000 * MS + i * 33 * MS, encoding="16UC1") for i in range(25)]
    with caplog.at_level(logging.WARNING):
        report = _translate(tmp_path, frames)
    assert report.stats.frame_drops == {"decode": 25} and not report.written
    assert len([r for r in caplog.records if "frame skipped" in r.getMessage()]) == 10
    assert "decode 25 (first: /sim/camera/image_raw @ 1.000000000 s" in report.faults
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ CLI exit codes
@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_translate_bag import shared_tiny_artifact

    return shared_tiny_artifact(tmp_path_factory)


def _run(*args) -> int:
    return main(["translate-bag", *map(str, args), "--no-progress"])


def test_cli_exit_codes(tmp_path: Path, artifact: Path, caplog: pytest.LogCaptureFixture) -> None:
    stamps = [1_000 * MS + i * 33 * MS for i in range(20)]
    frames = [frame_msgs(s) for s in stamps]
    frames[7]["segmentation"] = frame_msgs(stamps[7], size=(H + 2, W))["segmentation"]
    write_bag(tmp_path / "in", frames)
    assert _run(tmp_path / "in", tmp_path / "out", "--model", artifact) == 0  # 1/20 = 0.05
    assert "size_mismatch 1" in caplog.text
    assert _stamps(tmp_path / "out", f"{OUT}/image_raw") == stamps[:7] + stamps[8:]
    caplog.clear()
    assert _run(tmp_path / "in", tmp_path / "o2", "--model", artifact,
                "--max-drop-fraction", "0.01") == 1
    assert "1 of 20 frames dropped (5.0% > --max-drop-fraction 0.01)" in caplog.text
    assert "was still written with the 19 translated frames" in caplog.text
    assert (tmp_path / "o2").is_dir()  # a complete, valid bag of the good frames

    write_bag(tmp_path / "empty", [])
    caplog.clear()
    assert _run(tmp_path / "empty", tmp_path / "o3", "--model", artifact) == 1
    assert "nothing translated: the bag has no message on /sim/camera/image_raw; no output " \
           "written" in caplog.text
    assert not (tmp_path / "o3").exists()
    with pytest.raises(SystemExit) as exc:
        _run(tmp_path / "in", tmp_path / "o4", "--max-drop-fraction", "1.5")
    assert exc.value.code == 2


def test_stamped_labels_of_other_types_are_forwarded_untouched(tmp_path: Path) -> None:
    """A discovered label that is not an Image (PoseStamped) is synced and copied byte-
    identically, without size checks."""
    from sim2real_gan.io.ros_types import msg_class

    pose_cls, point, quat = (msg_class(f"geometry_msgs/msg/{n}") for n in
                             ("PoseStamped", "Point", "Quaternion"))
    pose_type = "geometry_msgs/msg/PoseStamped"
    stamps = [1_000 * MS + i * 33 * MS for i in range(3)]
    with BagWriter(tmp_path / "in") as w:
        for suffix, t in TYPES.items():
            w.add_topic(f"{NS}/{suffix}", t)
        w.add_topic(f"{NS}/tool_pose", pose_type)
        for i, s in enumerate(stamps):
            for suffix, msg in frame_msgs(s).items():
                w.write(f"{NS}/{suffix}", i * 10 + 1, msg)
            pose = msg_class("geometry_msgs/msg/Pose")(position=point(x=i, y=0, z=0),
                                                      orientation=quat(x=0, y=0, z=0, w=1))
            w.write(f"{NS}/tool_pose", i * 10 + 2, pose_cls(header=make_header(s, "cam"),
                                                            pose=pose))
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(identity),
                           BagTranslateConfig(progress=False))
    assert report.frames_out == 3 and f"{NS}/tool_pose" in report.plan.label_routes
    with BagReader(tmp_path / "in") as a, BagReader(tmp_path / "out") as b:
        assert [m.raw for m in a.messages([f"{NS}/tool_pose"])] == [
            m.raw for m in b.messages([f"{OUT}/tool_pose"])]
        assert b.topics[f"{OUT}/tool_pose"] == pose_type
