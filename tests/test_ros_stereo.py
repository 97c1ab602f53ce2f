"""translator_node in stereo mode with the synthetic camera's stereo scope, on a real ROS 2
graph (skipped where rclpy is missing): both eyes arrive translated, with identical stamps,
their labels and camera_infos, and never one eye without the other."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.ros
rclpy = pytest.importorskip("rclpy")

from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from sim2real_gan.node.synthetic_camera_node import SyntheticCamera  # noqa: E402
from sim2real_gan.node.translator_node import TranslatorNode  # noqa: E402
from test_export_onnx import make_artifact  # noqa: E402

IN, OUT = "/stereo_test/camera", "/stereo_test/out"
TOPICS = {f"{eye}/{name}": kind for eye in ("left", "right")
          for name, kind in (("image_raw", Image), ("segmentation", Image),
                             ("depth", Image), ("camera_info", CameraInfo))}


@pytest.fixture()
def graph(tmp_path: Path):
    rclpy.init()
    translator = TranslatorNode(parameter_overrides=[
        Parameter("model", value=str(make_artifact(tmp_path))),
        Parameter("backend", value="onnxruntime"), Parameter("style", value="1"),
        Parameter("autostart", value=False), Parameter("stereo", value=True),
        Parameter("input_ns", value=IN), Parameter("output_ns", value=OUT),
        Parameter("qos", value="reliable"), Parameter("queue_depth", value=10)])
    camera = SyntheticCamera(parameter_overrides=[
        Parameter("namespace", value=IN), Parameter("stereo", value=True),
        Parameter("width", value=64), Parameter("height", value=48),
        Parameter("rate_hz", value=10.0), Parameter("publish_clock", value=False)])
    probe = rclpy.create_node("stereo_probe")
    executor = MultiThreadedExecutor()
    for n in (translator, camera, probe):
        executor.add_node(n)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    yield translator, camera, probe
    executor.shutdown()
    thread.join(5)
    if translator.worker is not None:
        translator.worker.stop()
    for n in (translator, camera, probe):
        n.destroy_node()
    rclpy.try_shutdown()


def test_stereo_pairs_arrive_together(graph) -> None:
    translator, _, probe = graph
    got: dict[str, dict[int, object]] = {t: {} for t in TOPICS}
    lock = threading.Lock()

    def keep(topic):
        def cb(msg):
            with lock:
                got[topic][msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = msg
        return cb

    for topic, kind in TOPICS.items():
        probe.create_subscription(kind, f"{OUT}/{topic}", keep(topic), 10)
    translator.trigger_configure()
    translator.trigger_activate()
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline and len(got["left/image_raw"]) < 8:
        time.sleep(0.05)
    translator.trigger_deactivate()  # stop publishing, then compare what arrived
    time.sleep(0.5)
    with lock:
        left, right = dict(got["left/image_raw"]), dict(got["right/image_raw"])
        assert len(left) >= 8
        assert set(left) == set(right), "an eye was published without the other"
        for topic in TOPICS:
            assert set(got[topic]) <= set(left), f"{topic} published without its pair"
        for stamp, img in left.items():
            r = right[stamp]
            assert (img.width, img.height, img.encoding) == (64, 48, "rgb8")
            assert img.header.frame_id == "endoscope_left_optical_frame"
            assert r.header.frame_id == "endoscope_right_optical_frame"
            assert not np.array_equal(np.asarray(img.data), np.asarray(r.data))
        info = next(iter(got["right/camera_info"].values()))
        assert info.p[3] < 0 and info.p[3] == pytest.approx(-info.p[0] * 0.005)
    snap = translator.sync.snapshot()
    assert snap.published >= 8
    assert translator.worker.baseline.counts == {}
    # label_topics carry depth and both eyes camera_info: the right eye is rebuilt from the
    # left translation in every published pair, over most of its pixels
    rfl = translator.worker.step_fn.right_from_left
    assert rfl is not None and rfl.pairs >= snap.published and rfl.no_baseline == 0
    assert rfl.covered / rfl.pairs > 0.5
