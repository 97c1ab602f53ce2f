"""Per-frame faults: a frame that cannot be read, checked or translated is skipped and counted.

The node's worker and ``translate-bag`` both turn such a frame into a :class:`FrameFault`,
count it as a frame drop with its reason (beside the synchroniser's reasons), log one line
naming the topic and the stamp (rate-limited by :class:`FaultLog`), and go on with the next
frame. A fault never aborts a run.

Reasons:
    ``decode``         a part cannot be read: garbage CDR, truncated pixel data, a step or
                       encoding the codec refuses (e.g. the image stream switched to 16UC1)
    ``size_mismatch``  a label image or camera_info whose width/height differs from its image
    ``translate``      the translator failed on the frame (or returned a wrong shape)

Example:
    >>> fault = FrameFault("decode", "/sim/camera/image_raw", 2_040_000_000, "truncated")
    >>> fault.line()
    '/sim/camera/image_raw @ 2.040000000 s: decode: truncated'
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

FAULT_REASONS: dict[str, str] = {
    "decode": "a part cannot be read (garbage CDR, truncated data, refused encoding)",
    "size_mismatch": "a label or camera_info has another width/height than its image",
    "translate": "the translator failed on the frame",
}


def format_stamp(stamp_ns: int | None) -> str:
    """``2.040000000 s`` (sec.nanosec, as ``ros2 topic echo`` shows it), or ``unknown stamp``."""
    if stamp_ns is None:
        return "unknown stamp"
    sec, nsec = divmod(int(stamp_ns), 1_000_000_000)
    return f"{sec}.{nsec:09d} s"


class FrameFault(Exception):
    """One frame skipped: ``reason`` (a FAULT_REASONS key), the topic and stamp at fault."""

    def __init__(self, reason: str, topic: str, stamp_ns: int | None, detail: str):
        if reason not in FAULT_REASONS:
            raise ValueError(f"unknown fault reason {reason!r}; expected one of "
                             f"{sorted(FAULT_REASONS)}")
        super().__init__(f"{topic} @ {format_stamp(stamp_ns)}: {reason}: {detail}")
        self.reason, self.topic, self.stamp_ns, self.detail = reason, topic, stamp_ns, detail

    def line(self) -> str:
        return str(self)


def check_part_sizes(height: int, width: int, label_images: Mapping[str, Any],
                     camera_info: tuple[str, Any] | None, stamp_ns: int) -> None:
    """Every label image and the camera_info must be ``height`` x ``width``; a label's data
    must hold ``step * height`` bytes. Labels are sensor_msgs/Image messages (rclpy or
    rosbags), checked without conversion; raises FrameFault."""
    for topic, msg in label_images.items():
        if (msg.height, msg.width) != (height, width):
            raise FrameFault("size_mismatch", topic, stamp_ns,
                             f"label is {msg.width}x{msg.height}, its image {width}x{height}")
        if msg.step < msg.width or len(msg.data) < msg.step * msg.height:
            raise FrameFault("decode", topic, stamp_ns,
                             f"label data holds {len(msg.data)} bytes, step {msg.step} x "
                             f"height {msg.height} needs {msg.step * msg.height}")
    if camera_info is not None:
        topic, info = camera_info
        if (info.height, info.width) != (height, width):
            raise FrameFault("size_mismatch", topic, stamp_ns,
                             f"camera_info is {info.width}x{info.height}, its image "
                             f"{width}x{height}")


class FaultLog:
    """Counts faults by reason and logs them: the first ``first`` one line each, then every
    ``every``-th with the running count. ``summary()`` gives counts and a first example."""

    def __init__(self, logger: logging.Logger, first: int = 10, every: int = 100):
        self.logger, self.first, self.every = logger, first, every
        self.count = 0
        self.by_reason: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def record(self, fault: FrameFault) -> None:
        self.count += 1
        self.by_reason[fault.reason] += 1
        self.examples.setdefault(fault.reason, fault.line())
        if self.count <= self.first:
            suffix = (f" (further faults are logged every {self.every}th; all are counted)"
                      if self.count == self.first else "")
            self.logger.warning("frame skipped: %s%s", fault.line(), suffix)
        elif self.count % self.every == 0:
            self.logger.warning("frame skipped: %s (%d faults so far)", fault.line(), self.count)

    def summary(self) -> str:
        """``decode 2 (first: <line>), translate 1 (first: <line>)`` or ``none``."""
        return ", ".join(f"{r} {n} (first: {self.examples[r]})"
                         for r, n in sorted(self.by_reason.items())) or "none"
