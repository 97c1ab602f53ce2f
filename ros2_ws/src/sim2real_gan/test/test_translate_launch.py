"""launch_testing: translate.launch.py with the synthetic source, through the ROS graph.

Run after ``colcon build``:  ``colcon test --packages-select sim2real_gan`` (or
``launch_test test/test_translate_launch.py``). Checks: translated frames arrive with label
and camera_info stamps matching the image; bad parameters are rejected with a reason; the
lifecycle transitions deactivate / cleanup / configure / activate work; the processes exit
cleanly. Uses a tiny generator exported on the fly (no download, CPU ONNX Runtime).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import unittest
from pathlib import Path

import launch
import launch_testing
import launch_testing.actions
import launch_testing.asserts
import pytest
import rclpy
from ament_index_python.packages import get_package_share_directory
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from sensor_msgs.msg import CameraInfo, Image

OUT = "/realistic/camera"
NODE = "/translator_node"


def tiny_model(directory: Path) -> Path:
    """Export a tiny random-weight generator as a model artifact (a few seconds on a CPU)."""
    import torch
    from sim2real_gan.export import ExportOptions, export_artifact
    from sim2real_gan.models import build_generator, get_preset, save_generator

    torch.manual_seed(0)
    gen = build_generator(get_preset("tiny"))
    ckpt = save_generator(directory / "ckpt", gen, get_preset("tiny"),
                          meta={"resolution": [64, 64]})
    export_artifact(ckpt, directory / "artifact", ExportOptions())
    return directory / "artifact"


@pytest.mark.launch_test
def generate_test_description():
    model = tiny_model(Path(tempfile.mkdtemp(prefix="sim2real_launch_test_")))
    launch_file = os.path.join(get_package_share_directory("sim2real_gan"), "launch",
                               "translate.launch.py")
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(launch_file),
        launch_arguments={"model": str(model), "backend": "onnxruntime", "style": "1",
                          "synthetic_source": "true"}.items())
    return launch.LaunchDescription([include, launch_testing.actions.ReadyToTest()])


class TestTranslator(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        rclpy.init()
        cls.node = rclpy.create_node("translate_launch_probe")
        cls.lock = threading.Lock()
        cls.got: dict[str, dict[int, object]] = {}
        for name, kind in (("image_raw", Image), ("segmentation", Image), ("depth", Image),
                           ("camera_info", CameraInfo)):
            cls.node.create_subscription(kind, f"{OUT}/{name}", cls._keep(name), 10)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.node.destroy_node()
        rclpy.shutdown()

    @classmethod
    def _keep(cls, topic: str):
        def cb(msg) -> None:
            stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            with cls.lock:
                cls.got.setdefault(topic, {})[stamp] = msg
        return cb

    def spin_until(self, predicate, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.1)
            if predicate():
                return True
        return False

    def call(self, srv_type, name: str, request, timeout_s: float = 30.0):
        client = self.node.create_client(srv_type, name)
        self.assertTrue(client.wait_for_service(timeout_sec=timeout_s), name)
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=timeout_s)
        self.node.destroy_client(client)
        self.assertIsNotNone(future.result(), name)
        return future.result()

    def set_param(self, name: str, value) -> object:
        pv = ParameterValue()
        if isinstance(value, int):
            pv.type, pv.integer_value = ParameterType.PARAMETER_INTEGER, value
        else:
            pv.type, pv.string_value = ParameterType.PARAMETER_STRING, value
        req = SetParameters.Request(parameters=[Parameter(name=name, value=pv)])
        return self.call(SetParameters, f"{NODE}/set_parameters", req).results[0]

    def state(self) -> int:
        return self.call(GetState, f"{NODE}/get_state", GetState.Request()).current_state.id

    def transition(self, transition_id: int) -> None:
        req = ChangeState.Request()
        req.transition.id = transition_id
        self.assertTrue(self.call(ChangeState, f"{NODE}/change_state", req).success)

    def n_images(self) -> int:
        with self.lock:
            return len(self.got.get("image_raw", {}))

    def test_1_frames_arrive_with_matching_label_stamps(self) -> None:
        self.assertTrue(self.spin_until(lambda: self.n_images() >= 20, 120.0),
                        f"only {self.n_images()} translated frames")
        self.spin_until(lambda: False, 1.0)  # the labels of the last image
        with self.lock:
            images = dict(self.got["image_raw"])
            for topic in ("segmentation", "depth", "camera_info"):
                labels = self.got.get(topic, {})
                self.assertLessEqual(set(labels), set(images),
                                     f"{topic} published without its translated image")
                self.assertGreaterEqual(len(set(labels) & set(images)), len(images) - 2, topic)
        for img in images.values():
            self.assertEqual(img.encoding, "rgb8")
            self.assertEqual(img.header.frame_id, "endoscope_optical_frame")
            self.assertEqual(len(img.data), img.step * img.height)

    def test_2_bad_parameters_are_rejected(self) -> None:
        for name, value, needle in (("queue_depth", 0, "queue_depth"),
                                    ("backend", "cuda", "not one of"),
                                    ("style", "seed:x", "seed must be an integer"),
                                    ("style", "name:nope", "style bank"),
                                    ("output_ns", "/sim/camera", "also inputs")):
            result = self.set_param(name, value)
            self.assertFalse(result.successful, name)
            self.assertIn(needle, result.reason)
        self.assertTrue(self.set_param("style", "3").successful)

    def test_3_lifecycle_transitions(self) -> None:
        self.assertEqual(self.state(), State.PRIMARY_STATE_ACTIVE)
        self.transition(Transition.TRANSITION_DEACTIVATE)
        self.assertEqual(self.state(), State.PRIMARY_STATE_INACTIVE)
        self.transition(Transition.TRANSITION_CLEANUP)
        self.assertEqual(self.state(), State.PRIMARY_STATE_UNCONFIGURED)
        self.transition(Transition.TRANSITION_CONFIGURE)
        self.transition(Transition.TRANSITION_ACTIVATE)
        self.assertEqual(self.state(), State.PRIMARY_STATE_ACTIVE)
        before = self.n_images()
        self.assertTrue(self.spin_until(lambda: self.n_images() >= before + 5, 60.0))

    def test_4_qos_auto_and_receive_buffer(self) -> None:
        """qos auto: reliable subscriptions for the reliable synthetic camera; the launch file
        gave the translator's process a CYCLONEDDS_URI asking for the receive buffer
        (unless this test runs with a CYCLONEDDS_URI of its own)."""
        from rclpy.qos import ReliabilityPolicy

        for name in ("image_raw", "camera_info", "segmentation", "depth"):
            self.assertTrue(self.spin_until(lambda n=name: self._translator_sub(n), 30.0), name)
            for info in self._translator_sub(name):
                self.assertEqual(info.qos_profile.reliability, ReliabilityPolicy.RELIABLE, name)
        env = translator_environ()
        self.assertIsNotNone(env, "translator_node process not found in /proc")
        if "CYCLONEDDS_URI" in os.environ:
            self.assertEqual(env.get("CYCLONEDDS_URI"), os.environ["CYCLONEDDS_URI"])
        else:
            self.assertIn('SocketReceiveBufferSize min="default" max="8MiB"',
                          env.get("CYCLONEDDS_URI", ""))

    def _translator_sub(self, name: str) -> list:
        return [i for i in self.node.get_subscriptions_info_by_topic(f"/sim/camera/{name}")
                if i.node_name == "translator_node"]


def translator_environ() -> dict[str, str] | None:
    """Environment of the translator_node process started by the launch file (this user's,
    in this test's ROS_DOMAIN_ID)."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if proc.stat().st_uid != os.getuid() or not any(
                    a.endswith(b"translator_node") for a in cmdline[:2]) or \
                    b"__node:=translator_node" not in cmdline:
                continue
            raw = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # a process that ended meanwhile, or not ours
            continue
        env = dict(e.decode(errors="replace").split("=", 1) for e in raw if b"=" in e)
        if env.get("ROS_DOMAIN_ID") == os.environ.get("ROS_DOMAIN_ID"):  # ours, not another
            return env  # session's on the same machine
    return None


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    def test_exit_codes(self, proc_info) -> None:
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
