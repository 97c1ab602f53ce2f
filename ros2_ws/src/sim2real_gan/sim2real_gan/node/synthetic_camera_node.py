"""``synthetic_camera``: the built-in endoscope simulator as a ROS 2 camera.

Publishes, at ``rate_hz``, under ``namespace`` (default ``/sim/camera``): ``image_raw``
(rgb8), ``camera_info``, ``segmentation`` (mono8 class ids), ``depth`` (32FC1 metres) and
``uv`` (32FC2); every message of one frame carries the same header (stamp and frame_id).
With ``stereo``, each of these under ``<namespace>/left/`` and ``<namespace>/right/`` (the
``stereo_image_proc`` layout; one stamp per pair, frame ids ``endoscope_{left,right}_optical_
frame``, right ``P[3] = -fx * baseline``).
The label planes are those of the published appearance (``Frame.ground_truth``: with
``appearance: real``, class 0 / depth 0 / uv 0 outside the scope's content area, as the
image shows it).

Stamps: ``sim`` = the simulator's frame time (optionally published on ``/clock``; each new
episode starts 10 s of sim time after the previous one, so consumers see the reset), or
``wall`` = the node clock at publication. Parameters: ``params.CAMERA_PARAMS``; defaults
in ``config/translator.yaml``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from sim2real_gan.io.image_codec import numpy_to_image_fields
from sim2real_gan.node.params import (
    CAMERA_NODE,
    CAMERA_PARAMS,
    CameraSettings,
    ParameterError,
    default_config_path,
    load_config,
)
from sim2real_gan.node.ros_messages import descriptor, image_msg, qos_profile, set_stamp
from sim2real_gan.node.runner import run_node
from sim2real_gan.pipeline.stereo_topics import EYES
from sim2real_gan.pipeline.topics import resolve

EPISODE_GAP_NS = 10_000_000_000


def camera_info(k: np.ndarray, width: int, height: int, header: Header) -> CameraInfo:
    """Pinhole CameraInfo (no distortion) with P = [K | 0]."""
    msg = CameraInfo()
    msg.header = header
    msg.width, msg.height = int(width), int(height)
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = np.asarray(k, np.float64).reshape(9)
    msg.r = np.eye(3).reshape(9)
    p = np.zeros((3, 4))
    p[:, :3] = k
    msg.p = p.reshape(12)
    return msg


class SyntheticCamera(Node):
    """See the module docstring."""

    def __init__(self, **kwargs: Any):
        super().__init__(CAMERA_NODE, **kwargs)
        defaults = load_config(default_config_path())[CAMERA_NODE]
        for name, spec in CAMERA_PARAMS.items():
            self.declare_parameter(name, defaults[name], descriptor(spec))
        self.settings = s = CameraSettings.from_params(
            {n: self.get_parameter(n).value for n in CAMERA_PARAMS})
        qos = qos_profile(s.qos, 5)
        names = ["image_raw", "camera_info", "segmentation"]
        names += ["depth"] * s.publish_depth + ["uv"] * s.publish_uv
        if s.stereo:  # stereo_image_proc layout: <ns>/left/*, <ns>/right/*
            names = [f"{eye}/{n}" for eye in EYES for n in names]
        self.pubs = {n: self.create_publisher(
            CameraInfo if n.endswith("camera_info") else Image, resolve(s.namespace, n), qos)
            for n in names}
        self.clock_pub = (self.create_publisher(ClockMsg, "/clock", 10)
                          if s.publish_clock else None)
        self.published = 0
        self.episode = 0
        self._frames = self._frame_stream()
        self._t0 = time.monotonic()
        self.timer = self.create_timer(1.0 / s.rate_hz, self._tick,
                                       clock=Clock(clock_type=ClockType.STEADY_TIME))
        what = f"stereo pairs (baseline {s.baseline_mm:.1f} mm)" if s.stereo else "frames"
        self.get_logger().info(
            f"publishing {s.width}x{s.height} {s.appearance} {what} "
            f"at {s.rate_hz} Hz on "
            f"{s.namespace}/{{{','.join(names)}}}, {s.stamp_source} stamps"
            f"{', /clock' if s.publish_clock else ''}")

    def _frame_stream(self) -> Iterator[tuple[int, Any]]:
        """(stamp_ns, sim frame) forever, a new scene every ``episode_frames`` frames."""
        from sim2real_gan.sim.config import SimConfig, StereoConfig
        from sim2real_gan.sim.simulator import EndoscopeSimulator

        s = self.settings
        stereo = StereoConfig(baseline_m=s.baseline_mm / 1000.0) if s.stereo else None
        cfg = SimConfig(width=s.width, height=s.height, fps=s.rate_hz,
                        appearances=(s.appearance,), stereo=stereo)
        offset = 0
        while True:
            sim = EndoscopeSimulator(cfg, seed=s.seed + self.episode)
            count = s.episode_frames or None
            last = None
            frames = sim.stereo_frames(count) if s.stereo else sim.frames(count)
            for frame in frames:
                last = frame.stamp_ns + offset
                yield last, frame
            offset = last - cfg.start_stamp_ns + EPISODE_GAP_NS
            self.episode += 1

    def _tick(self) -> None:
        s = self.settings
        if s.max_frames and self.published >= s.max_frames:
            if self.published == s.max_frames:
                self.get_logger().info(f"published {self.published} frames; done")
                self.published += 1
                self.timer.cancel()
            return
        sim_ns, frame = next(self._frames)
        header = Header(frame_id=s.frame_id)
        if s.stamp_source == "sim":
            set_stamp(header.stamp, sim_ns)
            if self.clock_pub is not None:
                clock = ClockMsg()
                clock.clock = header.stamp
                self.clock_pub.publish(clock)
        else:
            header.stamp = self.get_clock().now().to_msg()
        if s.stereo:  # both eyes, one stamp; right P[3] = -fx * baseline
            from sim2real_gan.sim.config import EYE_FRAME_IDS
            from sim2real_gan.sim.stereo import projection_right

            for eye, f in (("left", frame.left), ("right", frame.right)):
                h = Header(stamp=header.stamp, frame_id=EYE_FRAME_IDS[eye])
                p = projection_right(f.K, frame.baseline_m) if eye == "right" else None
                self._publish_frame(f, h, f"{eye}/", p)
        else:
            self._publish_frame(frame, header)
        self.published += 1
        if self.published % 300 == 0:
            rate = self.published / (time.monotonic() - self._t0)
            self.get_logger().info(f"published {self.published} frames ({rate:.1f} Hz average)")


    def _publish_frame(self, frame: Any, header: Header, prefix: str = "",
                       p: np.ndarray | None = None) -> None:
        """One eye's (or the mono camera's) image, camera_info and labels on ``prefix*``."""
        s = self.settings
        pubs = {n[len(prefix):]: pub for n, pub in self.pubs.items() if n.startswith(prefix)}
        rgb = frame.image(s.appearance)
        truth = frame.ground_truth(s.appearance)  # labels as this appearance's image shows them
        pubs["image_raw"].publish(image_msg(numpy_to_image_fields(rgb, "rgb8"), header))
        info = camera_info(frame.K, s.width, s.height, header)
        if p is not None:
            info.p = np.asarray(p, np.float64).reshape(12)
        pubs["camera_info"].publish(info)
        pubs["segmentation"].publish(
            image_msg(numpy_to_image_fields(truth.labels, "mono8"), header))
        if s.publish_depth:
            pubs["depth"].publish(
                image_msg(numpy_to_image_fields(truth.depth.astype(np.float32), "32FC1"), header))
        if s.publish_uv:
            pubs["uv"].publish(
                image_msg(numpy_to_image_fields(truth.uv.astype(np.float32), "32FC2"), header))


def main(args: list[str] | None = None) -> int:
    """Entry point: spin the synthetic camera until interrupted."""
    try:
        return run_node(SyntheticCamera, args=args)
    except ParameterError as exc:
        print(f"synthetic_camera: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
