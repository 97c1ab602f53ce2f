"""Input QoS and input monitoring of translator_node on a real ROS 2 graph.

``qos: auto`` follows each topic's publishers (reliable for a reliable camera, best effort
for a best-effort one, also when it appears after activation), ``qos: reliable`` warns
naming the topics a best-effort publisher cannot reach, and an input that stops is named
in /diagnostics while images still arrive. Also: the synthetic camera's labels follow the
appearance it publishes. Needs rclpy; skipped without it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.ros
rclpy = pytest.importorskip("rclpy")

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from rclpy.executors import MultiThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402
from sim2real_gan.node.ros_messages import image_msg, qos_profile, set_stamp  # noqa: E402
from sim2real_gan.node.synthetic_camera_node import SyntheticCamera, camera_info  # noqa: E402
from sim2real_gan.node.translator_node import TranslatorNode  # noqa: E402
from std_msgs.msg import Header  # noqa: E402
from test_export_onnx import make_artifact  # noqa: E402

NS, OUT = "/qos_test/camera", "/qos_test/out"
INPUTS = ("image_raw", "camera_info", "segmentation", "depth")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("ros_qos"))


class Graph:
    """A translator on NS -> OUT (not configured), a probe node, one executor thread."""

    def __init__(self, artifact: Path, qos: str):
        self.translator = TranslatorNode(parameter_overrides=[
            Parameter("model", value=str(artifact)), Parameter("backend", value="onnxruntime"),
            Parameter("style", value="1"), Parameter("autostart", value=False),
            Parameter("input_ns", value=NS), Parameter("output_ns", value=OUT),
            Parameter("qos", value=qos)])
        self.probe = rclpy.create_node("qos_probe")
        self.nodes = [self.translator, self.probe]
        self.executor = MultiThreadedExecutor()
        for n in self.nodes:
            self.executor.add_node(n)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()
        self.out: dict[str, int] = {}
        self.lock = threading.Lock()

    def add(self, node) -> None:
        self.nodes.append(node)
        self.executor.add_node(node)

    def start(self) -> None:
        self.translator.trigger_configure()
        self.translator.trigger_activate()
        assert self.translator.active

    def count_output(self) -> None:
        def cb(msg):
            with self.lock:
                self.out["image_raw"] = self.out.get("image_raw", 0) + 1
        self.probe.create_subscription(Image, f"{OUT}/image_raw", cb, 10)

    def outputs(self) -> int:
        with self.lock:
            return self.out.get("image_raw", 0)

    def close(self) -> None:
        self.executor.shutdown()
        self.thread.join(5)
        if self.translator.worker is not None:
            self.translator.worker.stop()
        for n in self.nodes:
            n.destroy_node()


@pytest.fixture()
def make_graph(artifact: Path):
    rclpy.init()
    made: list[Graph] = []

    def make(qos: str) -> Graph:
        made.append(Graph(artifact, qos))
        return made[-1]

    yield make
    for g in made:
        g.close()
    rclpy.try_shutdown()


def wait_until(done: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    return done()


def camera(qos: str, **params) -> SyntheticCamera:
    values = {"namespace": NS, "width": 64, "height": 48, "rate_hz": 20.0,
              "publish_clock": False, "publish_uv": False, "qos": qos, **params}
    return SyntheticCamera(parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])


def subscribed_reliability(node, topic: str) -> set[str]:
    """Reliability of the translator's subscriptions on ``topic`` as the graph reports it."""
    return {i.qos_profile.reliability.name.lower() for i in node.get_subscriptions_info_by_topic(
        topic) if i.node_name == "translator_node"}


@pytest.mark.parametrize(("camera_qos", "want"), [("reliable", "reliable"),
                                                   ("sensor_data", "best_effort")])
def test_auto_matches_the_publishers(make_graph, camera_qos: str, want: str) -> None:
    g = make_graph("auto")
    g.add(camera(camera_qos))
    g.count_output()
    g.start()
    assert wait_until(lambda: {c.reliability for c in g.translator.inputs.choices.values()}
                      == {want})
    assert wait_until(lambda: g.outputs() >= 5), g.translator._status_line()
    for name in INPUTS:
        assert wait_until(lambda n=name: subscribed_reliability(g.probe, f"{NS}/{n}") == {want})
    assert g.translator.inputs.incompatible == {}


def test_auto_follows_a_best_effort_publisher_that_comes_later(make_graph) -> None:
    g = make_graph("auto")
    g.count_output()
    g.start()
    choices = g.translator.inputs.choices
    assert {c.reliability for c in choices.values()} == {"reliable"}
    assert {c.reason for c in choices.values()} == {"auto: no publisher yet"}
    g.add(camera("sensor_data"))
    assert wait_until(lambda: {c.reliability for c in g.translator.inputs.choices.values()}
                      == {"best_effort"})
    assert wait_until(lambda: g.outputs() >= 5), g.translator._status_line()


def test_auto_hears_mixed_publishers_best_effort(make_graph) -> None:
    g = make_graph("auto")
    g.start()
    depth = f"{NS}/depth"
    g.probe.create_publisher(Image, depth, qos_profile("reliable", 5))
    g.probe.create_publisher(Image, depth, qos_profile("sensor_data", 5))
    choices = g.translator.inputs.choices
    assert wait_until(lambda: choices[depth].mixed and choices[depth].reliability
                      == "best_effort"), choices[depth]
    assert wait_until(lambda: subscribed_reliability(g.probe, depth) == {"best_effort"})
    assert choices[f"{NS}/segmentation"].reliability == "reliable"  # per topic


def test_reliable_warns_naming_each_topic_a_best_effort_publisher_cannot_reach(
        make_graph) -> None:
    g = make_graph("reliable")
    g.add(camera("sensor_data"))
    g.count_output()
    g.start()
    warned = g.translator.inputs.incompatible
    assert wait_until(lambda: len(warned) == 4), warned
    for key, text in warned.items():
        name = g.translator.inputs.inputs[key].name
        assert f"input {name}: a publisher on {NS}/{name}" in text
        assert "reliability" in text and "qos:=auto" in text
    assert g.outputs() == 0


def test_a_silent_input_is_named_in_diagnostics_and_its_resume_too(make_graph) -> None:
    g = make_graph("auto")
    qos = qos_profile("reliable", 5)
    pubs = {t: g.probe.create_publisher(CameraInfo if t == "camera_info" else Image,
                                        f"{NS}/{t}", qos) for t in INPUTS}
    diags: list[DiagnosticArray] = []
    g.probe.create_subscription(DiagnosticArray, "/diagnostics", diags.append, 10)
    g.start()
    assert wait_until(lambda: all(p.get_subscription_count() > 0 for p in pubs.values()))
    frames = {"image_raw": np.zeros((48, 64, 3), np.uint8),
              "segmentation": np.zeros((48, 64), np.uint8),
              "depth": np.ones((48, 64), np.float32)}
    encodings = {"image_raw": "rgb8", "segmentation": "mono8", "depth": "32FC1"}

    def send(topics, seconds: float) -> None:
        from sim2real_gan.io.image_codec import numpy_to_image_fields

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            header = Header(frame_id="cam")
            set_stamp(header.stamp, time.time_ns())
            for t in topics:
                msg = camera_info(np.eye(3), 64, 48, header) if t == "camera_info" else \
                    image_msg(numpy_to_image_fields(frames[t], encodings[t]), header)
                pubs[t].publish(msg)
            time.sleep(0.05)

    send(INPUTS, 1.0)
    send(INPUTS[:3], 2.5)  # depth stops while the others go on at 20 Hz
    states = {s.name: s for s in g.translator.monitor.snapshot()}
    assert states["depth"].silent and not states["image_raw"].silent
    assert states["depth"].silent_s > 1.0
    assert wait_until(lambda: any(
        s.level == DiagnosticStatus.WARN and "silent input(s): depth for" in s.message
        for a in diags for s in a.status), 5.0), [s.message for a in diags for s in a.status]
    status = g.translator._status_line()
    assert re.search(r"depth [0-9.]+ Hz SILENT [0-9.]+ s", status), status
    assert re.search(r"incomplete \d+ \(missing depth \d+\)", status), status
    send(INPUTS, 1.0)
    states = {s.name: s for s in g.translator.monitor.snapshot()}
    assert not states["depth"].silent
    assert g.thread.is_alive()  # the resume was logged (twice-a-second watch) without error
    values = {v.key: v.value for a in diags for s in a.status for v in s.values}
    assert {"rate_in_depth_hz", "received_depth", "silent_s_depth", "qos_in_depth"} <= \
        set(values)


def test_real_appearance_labels_are_its_ground_truth(make_graph) -> None:
    from sim2real_gan.io.image_codec import image_to_numpy
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    g = make_graph("auto")
    got: dict[int, np.ndarray] = {}
    g.probe.create_subscription(Image, f"{NS}/segmentation", lambda m: got.setdefault(
        m.header.stamp.sec * 10**9 + m.header.stamp.nanosec, image_to_numpy(m)),
        qos_profile("reliable", 10))
    g.add(camera("reliable", appearance="real", max_frames=6))
    assert wait_until(lambda: len(got) >= 3)
    sim = EndoscopeSimulator(SimConfig(width=64, height=48, fps=20.0, appearances=("real",)),
                             seed=0)
    frames = {f.stamp_ns: f for f in sim.frames(6)}
    for stamp, labels in got.items():
        frame = frames[stamp]
        np.testing.assert_array_equal(labels, frame.ground_truth("real").labels)
        assert not frame.content_mask.all()
        assert (labels[~frame.content_mask] == 0).all()
