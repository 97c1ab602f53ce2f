"""Small rclpy-message helpers: stamps, Image building, QoS profiles, parameter descriptors."""

from __future__ import annotations

import array
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)
from sensor_msgs.msg import Image

from sim2real_gan.node.params import ParamSpec

NS_PER_S = 1_000_000_000


def stamp_ns(stamp: Any) -> int:
    """``builtin_interfaces/Time`` -> integer nanoseconds."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def set_stamp(stamp: Any, ns: int) -> Any:
    """Write integer nanoseconds into a ``builtin_interfaces/Time`` (returns it)."""
    stamp.sec, stamp.nanosec = divmod(int(ns), NS_PER_S)
    return stamp


def byte_array(data: Any) -> array.array:
    """A bytes-like object (numpy uint8 array, bytes) -> ``array.array('B')``: one copy.

    Assigning anything but an ``array.array`` to a generated uint8[] field makes the message
    class check every element in Python, which costs tens of ms per camera frame.
    """
    out = array.array("B")
    out.frombytes(memoryview(data).cast("B"))
    return out


def image_msg(fields: dict[str, Any], header: Any) -> Image:
    """sensor_msgs/Image from codec fields (``numpy_to_image_fields``) and a header."""
    msg = Image()
    msg.header = header
    msg.height = int(fields["height"])
    msg.width = int(fields["width"])
    msg.encoding = str(fields["encoding"])
    msg.is_bigendian = int(fields["is_bigendian"])
    msg.step = int(fields["step"])
    msg.data = byte_array(fields["data"])
    return msg


def qos_profile(kind: str, depth: int) -> QoSProfile:
    """``sensor_data`` (best effort, volatile) or ``reliable`` (reliable, volatile), keep-last
    ``depth``."""
    if kind not in ("sensor_data", "reliable"):
        raise ValueError(f"qos: expected sensor_data or reliable, got {kind!r}")
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=int(depth),
        reliability=(ReliabilityPolicy.BEST_EFFORT if kind == "sensor_data"
                     else ReliabilityPolicy.RELIABLE),
        durability=DurabilityPolicy.VOLATILE,
    )


def descriptor(spec: ParamSpec) -> ParameterDescriptor:
    """A ParameterDescriptor with the spec's description, choices and numeric range."""
    text = spec.description
    if spec.choices:
        text += f" (one of: {', '.join(spec.choices)})"
    if not spec.runtime:
        text += " [applies on configure]"
    d = ParameterDescriptor(name=spec.name, description=text)
    if spec.kind == "float" and spec.low is not None and spec.high is not None:
        d.floating_point_range = [FloatingPointRange(from_value=float(spec.low),
                                                     to_value=float(spec.high), step=0.0)]
    if spec.kind == "int" and spec.low is not None and spec.high is not None:
        d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high),
                                        step=1)]
    return d
