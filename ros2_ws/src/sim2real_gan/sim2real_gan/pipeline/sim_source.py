"""Built-in simulator frames -> ROS messages / rosbag2 (the demo's input).

Topics follow the simulator contract of docs/ARCHITECTURE.md: ``<ns>/image_raw`` (rgb8),
``camera_info``, ``segmentation`` (mono8), ``depth`` (32FC1), ``uv`` (32FC2), ``flow`` (32FC2),
``flow_valid`` (mono8 255/0), all of one frame with the identical header.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from sim2real_gan.io.bag import BagWriter
from sim2real_gan.io.ros_types import CAMERA_INFO, IMAGE, camera_info_msg, image_msg, make_header

FRAME_ID = "endoscope_optical_frame"
SIM_TOPICS: dict[str, str] = {
    "image_raw": IMAGE,
    "camera_info": CAMERA_INFO,
    "segmentation": IMAGE,
    "depth": IMAGE,
    "uv": IMAGE,
    "flow": IMAGE,
    "flow_valid": IMAGE,
}


def frame_messages(frame: Any, appearance: str | None = None) -> dict[str, Any]:
    """A simulator Frame -> {topic suffix: rosbags message}, one shared header."""
    h = make_header(frame.stamp_ns, FRAME_ID)
    rgb = frame.image(appearance)
    height, width = rgb.shape[:2]
    valid = np.where(frame.flow_valid, np.uint8(255), np.uint8(0))
    return {
        "image_raw": image_msg(rgb, "rgb8", h),
        "camera_info": camera_info_msg(frame.K, width, height, h),
        "segmentation": image_msg(frame.labels, "mono8", h),
        "depth": image_msg(np.asarray(frame.depth, np.float32), "32FC1", h),
        "uv": image_msg(np.asarray(frame.uv, np.float32), "32FC2", h),
        "flow": image_msg(np.asarray(frame.flow, np.float32), "32FC2", h),
        "flow_valid": image_msg(valid, "mono8", h),
    }


def simulate_to_bag(path: str | os.PathLike, frames: int = 120, width: int = 256,
                    height: int = 256, seed: int = 0, appearance: str = "sim",
                    ns: str = "/sim/camera", storage: str = "mcap", overwrite: bool = False,
                    progress: bool = False) -> float:
    """Simulate ``frames`` frames into a new bag (atomic); returns simulator frames/s."""
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    sim = EndoscopeSimulator(SimConfig(width=width, height=height, appearances=(appearance,)),
                             seed=seed)
    sim_s = 0.0
    with BagWriter(path, storage=storage, overwrite=overwrite) as w:
        for suffix, msgtype in SIM_TOPICS.items():
            w.add_topic(f"{ns}/{suffix}", msgtype)
        it = iter(sim.frames(frames))
        for _ in tqdm(range(frames), desc="simulate", unit="frame", disable=not progress):
            t0 = time.perf_counter()
            frame = next(it)
            sim_s += time.perf_counter() - t0
            for suffix, msg in frame_messages(frame, appearance).items():
                w.write(f"{ns}/{suffix}", frame.stamp_ns, msg)
    return frames / sim_s if sim_s > 0 else 0.0
