"""ROS 2 Jazzy message types through the ``rosbags`` typestore (no rclpy needed).

The objects built here are ``rosbags`` message dataclasses; they serialise to the same CDR
bytes that a Jazzy publisher produces, so bags written with them play back in ROS 2.

Example:
    >>> h = make_header(1_500_000_000, "endoscope_optical_frame")
    >>> stamp_to_ns(h.stamp)
    1500000000
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from rosbags.typesys import Stores, get_typestore
from rosbags.typesys.store import Typestore

from sim2real_gan.io.image_codec import numpy_to_image_fields

IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
NS_PER_S = 1_000_000_000


@lru_cache(maxsize=1)
def typestore() -> Typestore:
    """The shared ROS 2 Jazzy typestore (built once, then cached)."""
    return get_typestore(Stores.ROS2_JAZZY)


def msg_class(msgtype: str) -> Any:
    """Message class for a type name such as ``"sensor_msgs/msg/Image"``."""
    try:
        return typestore().types[msgtype]
    except KeyError:
        raise KeyError(f"message type {msgtype!r} is not in the ROS 2 Jazzy typestore") from None


def ns_to_stamp(ns: int) -> Any:
    """Nanoseconds since the epoch -> ``builtin_interfaces/msg/Time``."""
    ns = int(ns)
    if ns < 0:
        raise ValueError(f"stamp must be >= 0 ns, got {ns}")
    sec, nanosec = divmod(ns, NS_PER_S)
    if sec >= 2**31:
        raise ValueError(f"stamp {ns} ns does not fit builtin_interfaces/Time (int32 seconds)")
    return msg_class("builtin_interfaces/msg/Time")(sec=sec, nanosec=nanosec)


def stamp_to_ns(stamp: Any) -> int:
    """``builtin_interfaces/msg/Time`` (rosbags or rclpy) -> integer nanoseconds."""
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def make_header(stamp_ns: int, frame_id: str) -> Any:
    """``std_msgs/msg/Header`` with the given stamp (ns) and frame id."""
    return msg_class("std_msgs/msg/Header")(stamp=ns_to_stamp(stamp_ns), frame_id=str(frame_id))


def image_msg(array: np.ndarray, encoding: str, header: Any) -> Any:
    """numpy array -> ``sensor_msgs/msg/Image`` (rosbags type).

    Args:
        array: (H,W) or (H,W,C) with the dtype and channel count of ``encoding``
            (see ``image_codec.ENCODINGS``), e.g. uint8 (H,W,3) for ``rgb8``.
        encoding: one of ``image_codec.ENCODINGS``.
        header: a ``std_msgs/msg/Header`` (see :func:`make_header`).
    """
    fields = numpy_to_image_fields(array, encoding)
    return msg_class(IMAGE)(header=header, **fields)


def camera_info_msg(
    K: np.ndarray,  # noqa: N803 (paper/ROS symbol)
    width: int,
    height: int,
    header: Any,
    D: np.ndarray | None = None,  # noqa: N803
    distortion_model: str = "plumb_bob",
) -> Any:
    """Pinhole ``sensor_msgs/msg/CameraInfo``.

    Args:
        K: (3,3) intrinsic matrix [[fx,0,cx],[0,fy,cy],[0,0,1]].
        width, height: image size in pixels (must equal the image's).
        header: ``std_msgs/msg/Header`` (same stamp and frame_id as the image).
        D: distortion coefficients (5 for plumb_bob); zeros when None.
        distortion_model: ROS distortion model name.
    Returns:
        CameraInfo with R = identity and P = [K | 0].
    """
    k = np.asarray(K, dtype=np.float64)
    if k.shape != (3, 3):
        raise ValueError(f"K must have shape (3, 3), got {k.shape}")
    if int(width) <= 0 or int(height) <= 0:
        raise ValueError(f"camera size must be positive, got {width}x{height}")
    d = np.zeros(5 if distortion_model == "plumb_bob" else 0) if D is None else D
    d = np.asarray(d, dtype=np.float64).reshape(-1)
    p = np.zeros((3, 4), dtype=np.float64)
    p[:, :3] = k
    roi = msg_class("sensor_msgs/msg/RegionOfInterest")(
        x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
    )
    return msg_class(CAMERA_INFO)(
        header=header,
        height=int(height),
        width=int(width),
        distortion_model=distortion_model,
        d=d,
        k=k.reshape(-1).copy(),
        r=np.eye(3, dtype=np.float64).reshape(-1),
        p=p.reshape(-1),
        binning_x=0,
        binning_y=0,
        roi=roi,
    )


def camera_info_K(msg: Any) -> np.ndarray:  # noqa: N802
    """CameraInfo (rosbags or rclpy) -> (3,3) float64 intrinsic matrix."""
    return np.asarray(msg.k, dtype=np.float64).reshape(3, 3).copy()


def check_camera_info_matches(info: Any, image: Any) -> None:
    """Raise ValueError unless CameraInfo size equals the Image size."""
    if (int(info.width), int(info.height)) != (int(image.width), int(image.height)):
        raise ValueError(
            f"CameraInfo size {info.width}x{info.height} does not match image size "
            f"{image.width}x{image.height}"
        )
