"""Stereo serving core: the stereo topic plan, pair synchronisation and pair-level drops (one
eye missing, eyes of different sizes, stamps that never match, a right camera_info without a
baseline), on hand-made bags through the offline twin, and node/translate-bag parity."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.cli.main import build_parser
from sim2real_gan.cli.translate_bag import bag_config
from sim2real_gan.io.bag import BagReader, BagWriter, cdr_header_stamp_ns
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header
from sim2real_gan.node.params import (
    TRANSLATOR_NODE,
    ParameterError,
    TranslatorSettings,
    default_config_path,
    load_config,
)
from sim2real_gan.pipeline import FrameSynchronizer, ManualClock, SyncConfig
from sim2real_gan.pipeline.bag_translate import BagTranslateConfig, translate_bag
from sim2real_gan.pipeline.faults import FrameFault
from sim2real_gan.pipeline.stereo_step import (
    BaselineCheck,
    StereoTranslator,
    check_eyes,
    never_matched,
    split_frame,
)
from sim2real_gan.pipeline.stereo_topics import StereoRequest
from sim2real_gan.pipeline.topics import TopicError, TopicRequest

NS, OUT = "/sim/camera", "/realistic/camera"
H, W = 8, 12
MS = 1_000_000
TYPES = {"image_raw": "sensor_msgs/msg/Image", "camera_info": "sensor_msgs/msg/CameraInfo",
         "segmentation": "sensor_msgs/msg/Image"}


def plan(labels=("segmentation",)):
    return StereoRequest(TopicRequest(NS, OUT, "image_raw", "camera_info", labels)).plan()


# ---------------------------------------------------------------------------- topic plan
def test_stereo_plan_routes_each_eye_under_its_namespace() -> None:
    p = plan(("segmentation", "depth"))
    assert p.left.image == (f"{NS}/left/image_raw", f"{OUT}/left/image_raw")
    assert p.right.camera_info == (f"{NS}/right/camera_info", f"{OUT}/right/camera_info")
    assert [r.dst for r in p.right.labels] == [f"{OUT}/right/segmentation", f"{OUT}/right/depth"]
    assert p.frame.image == p.left.image and p.frame.camera_info == p.left.camera_info
    assert set(p.frame.routes) == set(p.left.routes) | set(p.right.routes)
    assert p.aux_topics({"uv": "uv"}) == {"left": {"uv": f"{NS}/left/uv"},
                                          "right": {"uv": f"{NS}/right/uv"}}


@pytest.mark.parametrize("kw,needle", [
    ({"labels": ("/gz/seg",)}, "label_topics: '/gz/seg' is absolute; in stereo mode"),
    ({"image": "/sim/camera/left/image_raw"}, "image_topic: .* is absolute"),
])
def test_stereo_plan_refuses_absolute_per_eye_names(kw, needle) -> None:
    base = TopicRequest(NS, OUT, **{"image": "image_raw", "camera_info": "camera_info", **kw})
    with pytest.raises(TopicError, match=needle):
        StereoRequest(base).plan()


def test_stereo_plan_refuses_bad_eye_namespaces() -> None:
    base = TopicRequest(NS, OUT)
    with pytest.raises(TopicError, match="left_ns and right_ns: both are 'eye'"):
        StereoRequest(base, "eye", "eye").plan()
    with pytest.raises(TopicError, match="right_ns: '/right' must be relative"):
        StereoRequest(base, "left", "/right").plan()


def test_node_parameters_and_translate_bag_flags_give_the_same_stereo_plan() -> None:
    config = load_config(default_config_path())[TRANSLATOR_NODE]
    node = TranslatorSettings.from_params({**config, "stereo": True, "input_ns": "/scope",
                                           "output_ns": "/real", "left_ns": "l",
                                           "right_ns": "r"})
    args = build_parser().parse_args(["translate-bag", "in", "out", "--stereo", "--input-ns",
                                      "/scope", "--output-ns", "/real", "--image-topic",
                                      "image_raw", "--labels", "segmentation", "depth",
                                      "--left-ns", "l", "--right-ns", "r"])
    bag = bag_config(args).stereo_request().plan()
    assert node.stereo == bag and node.topics.routes == bag.frame.routes
    assert node.stereo.right.image.dst == "/real/r/image_raw"
    with pytest.raises(ParameterError, match="label_topics: '/x/seg' is absolute"):
        TranslatorSettings.from_params({**config, "stereo": True, "label_topics": ["/x/seg"]})


def test_translate_bag_refuses_eye_namespaces_without_stereo() -> None:
    args = build_parser().parse_args(["translate-bag", "in", "out", "--left-ns", "a"])
    with pytest.raises(ValueError, match="--left-ns, --right-ns and --stereo-depth-topic need --stereo"):
        bag_config(args)


# ---------------------------------------------------------------------------- synchroniser
def stereo_sync(p, clock):
    f = p.frame
    return FrameSynchronizer(SyncConfig(label_keys=tuple(f.label_routes), camera_info=True,
                                        hold_ns=100 * MS, policy="ordered", reorder_ns=0,
                                        peer_image_keys=(p.right_image_key,)), clock=clock)


def add_pair(sync, p, stamp, skip=()):
    parts = {"left/image_raw": p.left.image.src, "left/camera_info": "camera_info",
             "left/segmentation": p.left.labels[0].src, "right/image_raw": p.right.image.src,
             "right/camera_info": p.right.camera_info.src,
             "right/segmentation": p.right.labels[0].src}
    for name, key in parts.items():
        if name in skip:
            continue
        sync.add("image" if name == "left/image_raw" else key, stamp, f"{name}@{stamp}")


def test_a_pair_is_complete_with_both_eyes_and_dropped_as_one() -> None:
    p, clock = plan(), ManualClock(0)
    sync = stereo_sync(p, clock)
    add_pair(sync, p, 1 * MS)
    add_pair(sync, p, 2 * MS, skip=("right/image_raw",))      # right eye missing
    add_pair(sync, p, 3 * MS, skip=("left/image_raw",))       # left eye missing
    add_pair(sync, p, 4 * MS)
    clock.advance(500 * MS)
    frames = sync.drain() + sync.finish()
    assert [f.stamp_ns for f in frames] == [1 * MS, 4 * MS]
    eyes = split_frame(frames[0], p)
    assert eyes["left"].image == "left/image_raw@1000000"
    assert eyes["right"].image == "right/image_raw@1000000"
    assert eyes["right"].camera_info == "right/camera_info@1000000"
    assert list(eyes["right"].labels.values()) == ["right/segmentation@1000000"]
    snap = sync.snapshot()
    assert snap.frame_drops == {"incomplete": 2}
    assert snap.peer_only_frames == 1
    assert snap.missing[p.right_image_key] == 1
    # the left image missing once is counted once, not once per part that waited for it
    # (left camera_info and segmentation, the right image, camera_info and segmentation)
    assert snap.missing == {p.right_image_key: 1, "image": 1}
    assert snap.message_drops == {"orphan": 5}
    assert never_matched(snap.received, 2, p) is None


def test_stamps_that_never_match_are_counted_and_named() -> None:
    p, clock = plan(), ManualClock(0)
    sync = stereo_sync(p, clock)
    for i in range(3):
        add_pair(sync, p, i * 10 * MS, skip=[k for k in ("right/image_raw", "right/camera_info",
                                                         "right/segmentation")])
        for name, key in (("image_raw", p.right_image_key),
                          ("camera_info", p.right_camera_info_key),
                          ("segmentation", p.right.labels[0].src)):
            sync.add(key, i * 10 * MS + 1, name)  # 1 ns later
    clock.advance(500 * MS)
    assert sync.drain() + sync.finish() == []
    snap = sync.snapshot()
    assert snap.frame_drops == {"incomplete": 6}  # 3 left frames + 3 right-only
    line = never_matched(snap.received, 0, p, {"left": 0, "right": 1})
    assert "no stereo pair matched: 3 images on /sim/camera/left/image_raw and 3 on " \
           "/sim/camera/right/image_raw" in line and "+0.000 ms" in line


def test_sync_config_refuses_a_peer_image_that_is_not_a_label() -> None:
    with pytest.raises(ValueError, match=r"peer_image_keys \['/r'\] are not label keys"):
        SyncConfig(label_keys=("/a",), peer_image_keys=("/r",))


# ---------------------------------------------------------------------------- the step
class _Img:
    def __init__(self, h, w, value=0, enc="rgb8"):
        arr = np.full((h, w, 3), value, np.uint8)
        self.height, self.width, self.encoding, self.is_bigendian = h, w, enc, 0
        self.step, self.data = w * 3, arr.reshape(-1)


def test_eyes_of_different_sizes_are_one_size_mismatch_naming_both() -> None:
    p, clock = plan(labels=()), ManualClock(0)
    sync = stereo_sync(p, clock)
    for key, msg in (("image", _Img(8, 12)), (p.right_image_key, _Img(10, 12)),
                     ("camera_info", _info(8, 12)), (p.right_camera_info_key, _info(10, 12))):
        sync.add(key, 5, msg)
    frame = sync.finish()[0]
    with pytest.raises(FrameFault, match=r"/sim/camera/right/image_raw @ 0.000000005 s: "
                       r"size_mismatch: right eye is 12x10, left eye 12x8"):
        check_eyes(split_frame(frame, p), 5)


def _info(h, w, p3=-1.0):
    info = camera_info_msg(np.array([[100, 0, w / 2], [0, 100, h / 2], [0, 0, 1.0]]), w, h,
                           make_header(0, "cam"))
    info.p[3] = p3
    return info


def test_one_batch_call_per_pair_with_both_eyes() -> None:
    calls = []

    def batch(frames, **aux):
        calls.append((frames.shape, {k: len(v) for k, v in aux.items()}))
        return 255 - frames

    p, clock = plan(labels=()), ManualClock(0)
    sync = stereo_sync(p, clock)
    for key, msg in (("image", _Img(8, 12, 10)), (p.right_image_key, _Img(8, 12, 20, "bgr8")),
                     ("camera_info", _info(8, 12)), (p.right_camera_info_key, _info(8, 12))):
        sync.add(key, 5, msg)
    fields = StereoTranslator(batch).translate_pair(split_frame(sync.finish()[0], p), 5)
    assert calls == [((2, 8, 12, 3), {})]
    assert fields["left"]["encoding"] == "rgb8" and fields["right"]["encoding"] == "bgr8"
    assert int(np.asarray(fields["left"]["data"])[0]) == 245
    assert int(np.asarray(fields["right"]["data"])[0]) == 235


def test_baseline_check_warns_once_and_counts(caplog) -> None:
    check = BaselineCheck()
    with caplog.at_level(logging.WARNING):
        assert check.check("/r/camera_info", _info(8, 12, p3=-0.5)) is None
        assert check.check("/r/camera_info", _info(8, 12, p3=0.0)) == "zero"
        assert check.check("/r/camera_info", _info(8, 12, p3=0.0)) == "zero"
        assert check.check("/r/camera_info", _info(8, 12, p3=0.7)) == "positive"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "/r/camera_info: P[3] is 0: no stereo baseline" in lines[0]
    assert check.summary() == ("right camera_info with P[3] > 0 in 1 pairs, right camera_info "
                               "without a baseline (P[3] = 0) in 2 pairs")


# ---------------------------------------------------------------------------- hostile bags
def eye_msgs(stamp: int, eye: str, size=(H, W), p3=-1.0) -> dict:
    h = make_header(stamp, f"{eye}_frame")
    value = (stamp // MS + (100 if eye == "right" else 0)) % 256
    return {"image_raw": image_msg(np.full((*size, 3), value, np.uint8), "rgb8", h),
            "camera_info": _info_h(size, h, p3 if eye == "right" else 0.0),
            "segmentation": image_msg(np.full(size, value, np.uint8), "mono8", h)}


def _info_h(size, header, p3):
    info = camera_info_msg(np.eye(3), size[1], size[0], header)
    info.p[3] = p3
    return info


def write_stereo(path: Path, pairs: list[dict]) -> None:
    """pairs: [{"left": msgs, "right": msgs}] (a missing suffix is not written)."""
    with BagWriter(path) as w:
        for eye in ("left", "right"):
            for suffix, t in TYPES.items():
                w.add_topic(f"{NS}/{eye}/{suffix}", t)
        log_ns = 1
        for pair in pairs:
            for eye in ("left", "right"):
                for suffix, msg in pair[eye].items():
                    log_ns += 1000
                    w.write(f"{NS}/{eye}/{suffix}", log_ns, msg)


def invert(frames, **aux):
    return 255 - frames


def translate(tmp_path: Path, pairs: list[dict], **cfg):
    write_stereo(tmp_path / "in", pairs)
    return translate_bag(tmp_path / "in", tmp_path / "out", StereoTranslator(invert),
                         BagTranslateConfig(progress=False, stereo=True, **cfg))


def stamps(path: Path, topic: str) -> list[int]:
    with BagReader(path) as r:
        return [cdr_header_stamp_ns(m.raw) for m in r.messages([topic])]


def pixels(path: Path, topic: str) -> list[int]:
    with BagReader(path) as r:
        return [int(image_to_numpy(m.decode())[0, 0, 0]) for m in r.messages([topic])]


def test_bag_pairs_out_with_one_eye_missing_are_dropped_as_pairs(tmp_path: Path) -> None:
    pairs = [{e: eye_msgs(i * 33 * MS, e) for e in ("left", "right")} for i in range(8)]
    del pairs[2]["right"]["image_raw"]
    del pairs[5]["left"]["image_raw"]
    report = translate(tmp_path, pairs)
    kept = [i * 33 * MS for i in (0, 1, 3, 4, 6, 7)]
    for eye in ("left", "right"):
        for suffix in TYPES:
            assert stamps(tmp_path / "out", f"{OUT}/{eye}/{suffix}") == kept, (eye, suffix)
    assert pixels(tmp_path / "out", f"{OUT}/left/image_raw") == [255 - i * 33 for i in
                                                                 (0, 1, 3, 4, 6, 7)]
    assert pixels(tmp_path / "out", f"{OUT}/right/image_raw") == [255 - (i * 33 + 100) % 256
                                                                  for i in (0, 1, 3, 4, 6, 7)]
    assert (report.frames_in, report.frames_out, report.unit) == (8, 6, "pairs")
    assert report.stats.frame_drops == {"incomplete": 2}
    assert report.line().startswith("6/8 pairs translated (dropped: incomplete 2 (missing ")


def test_bag_eyes_of_different_sizes_drop_the_pair_with_one_line(tmp_path: Path,
                                                                  caplog) -> None:
    pairs = [{e: eye_msgs(i * 33 * MS, e) for e in ("left", "right")} for i in range(4)]
    pairs[1]["right"] = eye_msgs(33 * MS, "right", size=(H + 2, W))
    with caplog.at_level(logging.WARNING):
        report = translate(tmp_path, pairs)
    assert report.frames_out == 3 and report.stats.frame_drops == {"size_mismatch": 1}
    lines = [r.getMessage() for r in caplog.records if "size_mismatch" in r.getMessage()]
    assert len(lines) == 1 and f"right eye is {W}x{H + 2}, left eye {W}x{H}" in lines[0]
    assert stamps(tmp_path / "out", f"{OUT}/right/image_raw") == [0, 66 * MS, 99 * MS]


def test_bag_stamps_that_never_match_write_nothing_and_say_why(tmp_path: Path) -> None:
    pairs = [{"left": eye_msgs(i * 33 * MS, "left"), "right": eye_msgs(i * 33 * MS + MS,
                                                                       "right")}
             for i in range(4)]
    report = translate(tmp_path, pairs)
    assert not report.written and not (tmp_path / "out").exists()
    verdict = report.verdict()
    assert verdict.startswith("nothing translated: all 8 pairs were dropped; no stereo pair "
                              "matched: 4 images on /sim/camera/left/image_raw and 4 on")
    assert "+1.000 ms from the first left one" in verdict
    report = translate(tmp_path / "slop", pairs, slop_ns=2 * MS)
    assert report.frames_out == 4 and report.verdict() is None


def test_bag_right_camera_info_without_baseline_is_one_line_and_counted(
        tmp_path: Path, caplog) -> None:
    pairs = [{e: eye_msgs(i * 33 * MS, e, p3=0.0) for e in ("left", "right")} for i in range(3)]
    with caplog.at_level(logging.WARNING):
        report = translate(tmp_path, pairs)
    assert report.frames_out == 3 and report.verdict() is None
    lines = [r.getMessage() for r in caplog.records if "baseline" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"{NS}/right/camera_info: P[3] is 0")
    assert report.notes == ["right camera_info without a baseline (P[3] = 0) in 3 pairs"]
    assert "without a baseline (P[3] = 0) in 3 pairs" in report.line()


def test_bag_missing_right_eye_topic_is_one_error(tmp_path: Path) -> None:
    from sim2real_gan.io.bag import BagError

    pairs = [{"left": eye_msgs(0, "left"), "right": {}}]
    write_stereo(tmp_path / "in", pairs)
    with BagReader(tmp_path / "in"):
        pass
    cfg = BagTranslateConfig(progress=False, stereo=True, right_ns="rechts")
    with pytest.raises(BagError, match="right eye: image topic /sim/camera/rechts/image_raw is "
                       "not in the bag"):
        translate_bag(tmp_path / "in", tmp_path / "out", StereoTranslator(invert), cfg)
