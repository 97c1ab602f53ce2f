"""Shared pipeline core of the ROS node and ``translate-bag`` (no rclpy).

``FrameSynchronizer`` pairs an image with its labels and camera_info by header stamp,
applies the latest-frame (node) or ordered (offline) policy and decides reorders, resets and
episodes (``episodes.StampTracker``); ``PipelineStats`` counts rate, latency and drops;
``MessageTranslator`` is the decode -> translate -> encode step; ``topics`` is the one topic
plan of the node, ``translate-bag`` and the launch file; ``faults`` turns a bad frame into a
counted skip.
"""

from sim2real_gan.pipeline.stats import ManualClock, PipelineStats, StatsSnapshot, monotonic_clock
from sim2real_gan.pipeline.sync import (
    CAMERA_INFO_KEY,
    IMAGE_KEY,
    Frame,
    FrameSynchronizer,
    SyncConfig,
)

__all__ = [
    "CAMERA_INFO_KEY",
    "IMAGE_KEY",
    "Frame",
    "FrameSynchronizer",
    "ManualClock",
    "PipelineStats",
    "StatsSnapshot",
    "SyncConfig",
    "monotonic_clock",
]
