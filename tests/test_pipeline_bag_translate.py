"""Offline bag translation core (pipeline.bag_translate) with a plain numpy translate function."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.io.bag import BagError, BagReader, BagWriter, cdr_header_stamp_ns
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import (
    camera_info_msg,
    image_msg,
    make_header,
    msg_class,
    ns_to_stamp,
)
from sim2real_gan.pipeline.bag_translate import BagTranslateConfig, translate_bag
from sim2real_gan.pipeline.message_step import MessageTranslator

NS = "/sim/camera"
H, W = 12, 16


def write_camera_bag(path: Path, n: int = 5, storage: str = "mcap", skip: dict | None = None,
                     encoding: str = "rgb8") -> None:
    """A small camera bag: image, camera_info, segmentation, depth, uv + /tf, /clock, /chat.

    ``skip`` maps a topic suffix to frame indices whose message is left out. Labels are
    written in a different order than the image (some before, some after).
    """
    skip = skip or {}
    rng = np.random.default_rng(0)
    tf_cls, ts_cls = msg_class("tf2_msgs/msg/TFMessage"), msg_class(
        "geometry_msgs/msg/TransformStamped")
    with BagWriter(path, storage=storage) as w:
        types = {"image_raw": "sensor_msgs/msg/Image", "camera_info": "sensor_msgs/msg/CameraInfo",
                 "segmentation": "sensor_msgs/msg/Image", "depth": "sensor_msgs/msg/Image",
                 "uv": "sensor_msgs/msg/Image"}
        for suffix, t in types.items():
            w.add_topic(f"{NS}/{suffix}", t)
        w.add_topic("/tf", "tf2_msgs/msg/TFMessage")
        w.add_topic("/clock", "rosgraph_msgs/msg/Clock")
        w.add_topic("/chat", "std_msgs/msg/String")
        for i in range(n):
            stamp = 2_000_000_000 + i * 40_000_000
            h = make_header(stamp, "endoscope_optical_frame")
            rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
            img = rgb if encoding == "rgb8" else rgb[:, :, ::-1].copy()
            msgs = {
                "segmentation": image_msg(rng.integers(0, 8, (H, W), dtype=np.uint8), "mono8", h),
                "image_raw": image_msg(img, encoding, h),
                "depth": image_msg(rng.random((H, W), dtype=np.float32), "32FC1", h),
                "camera_info": camera_info_msg(np.eye(3), W, H, h),
                "uv": image_msg(rng.random((H, W, 2), dtype=np.float32), "32FC2", h),
            }
            w.write("/clock", stamp, msg_class("rosgraph_msgs/msg/Clock")(clock=ns_to_stamp(stamp)))
            for k, (suffix, msg) in enumerate(msgs.items()):
                if i not in skip.get(suffix, ()):
                    w.write(f"{NS}/{suffix}", stamp + k * 1000, msg)  # log time after stamp
            tf = ts_cls(header=h, child_frame_id="tool",
                        transform=msg_class("geometry_msgs/msg/Transform")(
                            translation=msg_class("geometry_msgs/msg/Vector3")(x=i, y=0, z=0),
                            rotation=msg_class("geometry_msgs/msg/Quaternion")(
                                x=0, y=0, z=0, w=1)))
            w.write("/tf", stamp + 10, tf_cls(transforms=[tf]))
        w.write("/chat", 2_000_000_000, msg_class("std_msgs/msg/String")(data="hello"))


def invert(rgb: np.ndarray, **aux) -> np.ndarray:
    return 255 - rgb


def _records(path: Path) -> dict[str, list[tuple[int, bytes]]]:
    out: dict[str, list[tuple[int, bytes]]] = {}
    with BagReader(path) as r:
        for m in r.messages():
            out.setdefault(m.topic, []).append((m.stamp_ns, m.raw))
    return out


def test_translates_images_and_copies_the_rest_byte_identically(tmp_path: Path) -> None:
    write_camera_bag(tmp_path / "in", n=5)
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(invert),
                           BagTranslateConfig(progress=False))
    assert report.images_in == report.frames_out == 5
    src, dst = _records(tmp_path / "in"), _records(tmp_path / "out")
    out_ns = "/realistic/camera"
    assert set(dst) == {f"{out_ns}/{s}" for s in
                        ("image_raw", "camera_info", "segmentation", "depth", "uv")} | {
        "/tf", "/clock", "/chat"}
    for suffix in ("camera_info", "segmentation", "depth", "uv"):
        assert dst[f"{out_ns}/{suffix}"] == src[f"{NS}/{suffix}"]
    for topic in ("/tf", "/clock", "/chat"):
        assert dst[topic] == src[topic]
    with BagReader(tmp_path / "in") as r_in, BagReader(tmp_path / "out") as r_out:
        ins = [m for m in r_in.messages([f"{NS}/image_raw"])]
        outs = [m for m in r_out.messages([f"{out_ns}/image_raw"])]
        assert [m.stamp_ns for m in ins] == [m.stamp_ns for m in outs]
        for a, b in zip(ins, outs, strict=True):
            ma, mb = a.decode(), b.decode()
            assert ma.header == mb.header
            np.testing.assert_array_equal(image_to_numpy(mb), 255 - image_to_numpy(ma))


def test_missing_label_drops_the_frame_and_its_other_labels(tmp_path: Path) -> None:
    write_camera_bag(tmp_path / "in", n=6, skip={"segmentation": [2]})
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(invert),
                           BagTranslateConfig(progress=False, hold_ns=100_000_000))
    assert (report.images_in, report.frames_out) == (6, 5)
    assert report.stats.frame_drops == {"incomplete": 1}
    dst = _records(tmp_path / "out")
    per_topic_stamps = {t: [cdr_header_stamp_ns(raw) for _, raw in recs]
                        for t, recs in dst.items() if t.startswith("/realistic/")}
    stamps = per_topic_stamps["/realistic/camera/image_raw"]
    assert len(stamps) == 5 and 2_000_000_000 + 2 * 40_000_000 not in stamps
    for topic, got in per_topic_stamps.items():
        assert got == stamps, f"{topic} has a label without its image"


def test_keep_input_bgr_and_sqlite(tmp_path: Path) -> None:
    write_camera_bag(tmp_path / "in", n=3, encoding="bgr8")
    cfg = BagTranslateConfig(progress=False, keep_input=True, storage="sqlite3",
                             output_ns="/out")
    report = translate_bag(tmp_path / "in", tmp_path / "out", MessageTranslator(invert), cfg)
    src, dst = _records(tmp_path / "in"), _records(tmp_path / "out")
    for topic, recs in src.items():
        assert dst[topic] == recs  # every input topic kept as is
    assert "/out/image_raw" in dst and report.frames_out == 3
    with BagReader(tmp_path / "out") as r:
        assert r.storage == "sqlite3"
        msg = next(r.messages(["/out/image_raw"])).decode()
        assert msg.encoding == "bgr8"


def test_aux_streams_reach_the_translate_function(tmp_path: Path) -> None:
    write_camera_bag(tmp_path / "in", n=2)
    seen = []

    def with_uv(rgb: np.ndarray, uv: np.ndarray) -> np.ndarray:
        seen.append(uv.shape)
        return rgb

    step = MessageTranslator(with_uv, aux_keys={"uv": f"{NS}/uv"})
    translate_bag(tmp_path / "in", tmp_path / "out", step, BagTranslateConfig(progress=False))
    assert seen == [(H, W, 2)] * 2
    bad = MessageTranslator(with_uv, aux_keys={"uv": f"{NS}/texture"})
    with pytest.raises(BagError, match="texture"):
        translate_bag(tmp_path / "in", tmp_path / "o2", bad, BagTranslateConfig(progress=False))
    assert not (tmp_path / "o2").exists()


def test_errors(tmp_path: Path) -> None:
    write_camera_bag(tmp_path / "in", n=2)
    step = MessageTranslator(invert)
    with pytest.raises(BagError, match=r"/cam/nope.*/sim/camera/image_raw"):
        translate_bag(tmp_path / "in", tmp_path / "o", step,
                      BagTranslateConfig(image_topic="/cam/nope", progress=False))
    with pytest.raises(BagError, match="expected sensor_msgs/msg/Image"):
        translate_bag(tmp_path / "in", tmp_path / "o", step,
                      BagTranslateConfig(image_topic="/chat", progress=False))
    with pytest.raises(BagError, match="is the input"):
        translate_bag(tmp_path / "in", tmp_path / "in", step, BagTranslateConfig(progress=False))

    def shrink(rgb: np.ndarray) -> np.ndarray:
        return rgb[:-1]

    # a translator failing on every frame: each frame is a counted fault, nothing is written
    report = translate_bag(tmp_path / "in", tmp_path / "o", MessageTranslator(shrink),
                           BagTranslateConfig(progress=False))
    assert (report.frames_out, report.written) == (0, False)
    assert report.stats.frame_drops == {"translate": 2}
    assert "translator output: expected uint8" in report.faults
    assert report.verdict().startswith("nothing translated: all 2 frames were dropped")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # nothing half-written
