"""rosbag2 read/write through rosbags: both storages, raw copies, atomicity, bad bags."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.io.bag import BagError, BagReader, BagWriter
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import (
    camera_info_msg,
    image_msg,
    make_header,
    stamp_to_ns,
    typestore,
)

TOPICS = {
    "/cam/image_raw": "sensor_msgs/msg/Image",
    "/cam/depth": "sensor_msgs/msg/Image",
    "/cam/camera_info": "sensor_msgs/msg/CameraInfo",
}


def _write_bag(path: Path, storage: str, n: int = 6) -> dict[str, list[tuple[int, bytes]]]:
    """Write a small bag; return topic -> [(stamp, raw payload)] as serialised."""
    rng = np.random.default_rng(3)
    expected: dict[str, list[tuple[int, bytes]]] = {t: [] for t in TOPICS}
    with BagWriter(path, storage=storage) as w:
        for topic, msgtype in TOPICS.items():
            w.add_topic(topic, msgtype)
        for i in range(n):
            stamp = 1_700_000_000_000_000_000 + i * 33_000_000
            h = make_header(stamp, "endoscope_optical_frame")
            msgs = {
                "/cam/image_raw": image_msg(
                    rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), "rgb8", h),
                "/cam/depth": image_msg(rng.random((12, 16), dtype=np.float32), "32FC1", h),
                "/cam/camera_info": camera_info_msg(np.eye(3), 16, 12, h),
            }
            for topic, msg in msgs.items():
                w.write(topic, stamp, msg)
                expected[topic].append((stamp, typestore().serialize_cdr(msg, TOPICS[topic])))
    return expected


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_round_trip_both_storages(tmp_path: Path, storage: str) -> None:
    expected = _write_bag(tmp_path / "bag", storage)
    with BagReader(tmp_path / "bag") as r:
        assert r.topics == TOPICS
        assert r.storage == storage
        assert r.message_counts == {t: 6 for t in TOPICS}
        got: dict[str, list[tuple[int, bytes]]] = {t: [] for t in TOPICS}
        stamps = []
        for m in r.messages():
            got[m.topic].append((m.stamp_ns, m.raw))
            stamps.append(m.stamp_ns)
            msg = m.decode()
            assert stamp_to_ns(msg.header.stamp) == m.stamp_ns
            if m.topic == "/cam/camera_info":
                assert (msg.width, msg.height) == (16, 12)
            else:
                assert image_to_numpy(msg).shape[:2] == (12, 16)
    assert got == expected
    assert stamps == sorted(stamps)


def test_topic_filter_and_unknown_topic(tmp_path: Path) -> None:
    _write_bag(tmp_path / "bag", "mcap", n=3)
    with BagReader(tmp_path / "bag") as r:
        assert {m.topic for m in r.messages(["/cam/depth"])} == {"/cam/depth"}
        with pytest.raises(BagError, match=r"no topic.*/nope.*/cam/depth"):
            list(r.messages(["/nope"]))


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_raw_copy_is_byte_identical_with_definitions(tmp_path: Path, storage: str) -> None:
    _write_bag(tmp_path / "in", "mcap", n=4)
    with BagReader(tmp_path / "in") as r, BagWriter(tmp_path / "out", storage=storage) as w:
        defs = r.topic_defs
        for topic, d in defs.items():
            w.add_topic("/copy" + topic, d.msgtype, definition=d)
        originals = [(m.topic, m.stamp_ns, m.raw) for m in r.messages()]
        for topic, stamp, raw in originals:
            w.write_raw("/copy" + topic, stamp, raw)
    with BagReader(tmp_path / "out") as r:
        copies = [(m.topic.removeprefix("/copy"), m.stamp_ns, m.raw) for m in r.messages()]
        assert {t: d.rihs01 for t, d in r.topic_defs.items()} == {
            "/copy" + t: d.rihs01 for t, d in defs.items()}
    assert copies == originals


def test_exception_inside_with_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "bag"
    with pytest.raises(RuntimeError, match="boom"), BagWriter(out) as w:
        w.add_topic("/a", "sensor_msgs/msg/CameraInfo")
        w.write("/a", 1, camera_info_msg(np.eye(3), 2, 2, make_header(1, "f")))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    _write_bag(tmp_path / "bag", "mcap", n=2)
    with pytest.raises(FileExistsError, match="already exists"), BagWriter(tmp_path / "bag"):
        pass
    with BagWriter(tmp_path / "bag", storage="sqlite3", overwrite=True) as w:
        w.add_topic("/only", "sensor_msgs/msg/CameraInfo")
    with BagReader(tmp_path / "bag") as r:
        assert r.topics == {"/only": "sensor_msgs/msg/CameraInfo"} and r.storage == "sqlite3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag"]


def test_writer_input_errors(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="storage 'zip'"):
        BagWriter(tmp_path / "x", storage="zip")
    with BagWriter(tmp_path / "x") as w:
        with pytest.raises(BagError, match="not in the ROS 2 Jazzy"):
            w.add_topic("/a", "my_pkg/msg/Nope")
        with pytest.raises(BagError, match="was not added"):
            w.write_raw("/b", 0, b"")
        w.add_topic("/a", "sensor_msgs/msg/Image")
        with pytest.raises(BagError, match="already added"):
            w.add_topic("/a", "sensor_msgs/msg/Image")


def test_missing_bag(tmp_path: Path) -> None:
    with pytest.raises(BagError, match=str(tmp_path / "nobag")), BagReader(tmp_path / "nobag"):
        pass


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
@pytest.mark.parametrize("damage", ["truncate", "garbage", "no_metadata"])
def test_damaged_bag_is_a_bag_error_naming_the_path(tmp_path: Path, storage, damage) -> None:
    bag = tmp_path / "bag"
    _write_bag(bag, storage, n=8)
    data_file = next(p for p in bag.iterdir() if p.suffix in (".mcap", ".db3"))
    if damage == "truncate":
        data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size * 2 // 3])
    elif damage == "garbage":
        data_file.write_bytes(b"not a bag " * 50)
    else:
        (bag / "metadata.yaml").unlink()
    with pytest.raises(BagError, match=str(bag)):
        with BagReader(bag) as r:
            for m in r.messages():
                m.decode()


@pytest.mark.skipif(importlib.util.find_spec("mcap_ros2") is None,
                    reason="optional independent decoder mcap-ros2-support not installed")
def test_independent_mcap_decoder_reads_our_bag(tmp_path: Path) -> None:
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    _write_bag(tmp_path / "bag", "mcap", n=3)
    mcap_file = next((tmp_path / "bag").glob("*.mcap"))
    seen = {}
    with open(mcap_file, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        for schema, channel, _, msg in reader.iter_decoded_messages():
            seen[channel.topic] = schema.name
            if channel.topic == "/cam/image_raw":
                assert (msg.width, msg.height, msg.encoding) == (16, 12, "rgb8")
    assert seen == TOPICS
