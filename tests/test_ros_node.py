"""translator_node and synthetic_camera in one process under a real ROS 2 graph.

Needs ROS 2 (rclpy, sensor_msgs, diagnostic_updater); skipped where rclpy is missing. The
launch-file level tests live in ros2_ws/src/sim2real_gan/test/ (launch_testing, colcon test).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.ros
rclpy = pytest.importorskip("rclpy")

from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from sim2real_gan.node.synthetic_camera_node import SyntheticCamera  # noqa: E402
from sim2real_gan.node.translator_node import TranslatorNode  # noqa: E402
from test_export_onnx import make_artifact  # noqa: E402

OUT = "/realistic/camera"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("ros_node"))


@pytest.fixture()
def graph(artifact: Path):
    """A translator (not yet configured), a 40-frame synthetic camera and a probe node."""
    rclpy.init()
    translator = TranslatorNode(parameter_overrides=[
        Parameter("model", value=str(artifact)), Parameter("backend", value="onnxruntime"),
        Parameter("style", value="seed:1"), Parameter("autostart", value=False)])
    camera = SyntheticCamera(parameter_overrides=[
        Parameter("width", value=64), Parameter("height", value=48),
        Parameter("rate_hz", value=20.0), Parameter("publish_clock", value=False)])
    probe = rclpy.create_node("probe")
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


def collect(probe, seconds: float, want: int) -> dict[str, dict[int, object]]:
    """Messages on the output namespace by topic -> stamp (ns) -> message."""
    got: dict[str, dict[int, object]] = {}
    lock = threading.Lock()

    def keep(topic):
        def cb(msg):
            with lock:
                got.setdefault(topic, {})[msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = msg
        return cb

    # kept until the probe node is destroyed: destroying a subscription while the executor
    # thread waits on it is a race in rclpy
    for name, kind in (("image_raw", Image), ("segmentation", Image), ("depth", Image),
                       ("camera_info", CameraInfo)):
        probe.create_subscription(kind, f"{OUT}/{name}", keep(name), 10)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(got.get("image_raw", {})) < want:
        time.sleep(0.05)
    time.sleep(0.5)  # labels follow their image
    with lock:
        return {k: dict(v) for k, v in got.items()}


def test_translated_frames_arrive_with_their_labels(graph) -> None:
    translator, _, probe = graph
    translator.trigger_configure()
    translator.trigger_activate()
    got = collect(probe, 30.0, want=10)
    images = got.get("image_raw", {})
    assert len(images) >= 10
    for img in images.values():
        assert (img.width, img.height, img.encoding) == (64, 48, "rgb8")
        assert img.header.frame_id == "endoscope_optical_frame"
    for topic in ("segmentation", "depth", "camera_info"):
        labels = got.get(topic, {})
        assert set(labels) <= set(images), f"{topic} published without its image"
        assert len(labels) >= len(images) - 1, topic
    assert translator.sync.snapshot().published >= 10


def test_bad_parameters_are_rejected_with_a_reason(graph) -> None:
    translator, _, _ = graph
    for name, value, needle in (("queue_depth", 0, "queue_depth"),
                                ("backend", "cuda", "not one of"),
                                ("style", "seed:x", "seed must be an integer"),
                                ("output_ns", "/sim/camera", "also inputs")):
        result = translator.set_parameters([Parameter(name, value=value)])[0]
        assert not result.successful and needle in result.reason, (name, result.reason)
    assert translator.set_parameters([Parameter("style", value="seed:4")])[0].successful


def test_lifecycle_load_release_reload(graph) -> None:
    translator, _, probe = graph
    assert translator.translator is None
    translator.trigger_configure()
    assert translator.translator is not None and not translator.active
    translator.trigger_activate()
    assert translator.active and translator.worker.running
    translator.trigger_deactivate()
    assert not translator.active and not translator.worker.running
    translator.trigger_cleanup()
    assert translator.translator is None and translator.sync is None
    translator.trigger_configure()
    translator.trigger_activate()
    assert len(collect(probe, 30.0, want=3).get("image_raw", {})) >= 3
