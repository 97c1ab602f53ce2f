"""Read a sensor_msgs/msg/Image straight from its CDR bytes, zero-copy, without deserialising.

``translate-bag`` forwards label images byte-identically but must still check each one (its
size against the image's, its data length against ``step * height``) and may feed some to
the model (aux inputs). A full deserialisation of every label costs about 0.4 ms each on the
development VM; this reads the few fields in microseconds and gives the pixel data as a view.
The result has the fields the image codec reads, so ``image_to_numpy(peek_image(raw))`` works.

Layout (ROS 2 CDR, XCDR1, plain little- or big-endian): 4-byte encapsulation header, then
``header.stamp`` (int32 sec, uint32 nanosec), ``header.frame_id`` (string), ``height``,
``width`` (uint32), ``encoding`` (string), ``is_bigendian`` (uint8), ``step`` (uint32),
``data`` (uint8 sequence). Strings are a uint32 length (including the NUL) and the bytes;
4-byte values are aligned to 4 from the end of the encapsulation header.

Example:
    >>> from sim2real_gan.io.ros_types import image_msg, make_header, typestore
    >>> raw = typestore().serialize_cdr(image_msg(np.zeros((2, 3), np.uint8), "mono8",
    ...                                 make_header(5, "cam")), "sensor_msgs/msg/Image")
    >>> v = peek_image(raw)
    >>> (v.stamp_ns, v.frame_id, v.height, v.width, v.encoding, v.step, len(v.data))
    (5, 'cam', 2, 3, 'mono8', 3, 6)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np


class CdrError(ValueError):
    """The bytes are not a well-formed sensor_msgs/Image in CDR (truncated or garbage)."""


@dataclass(frozen=True)
class ImageView:
    """The fields of a sensor_msgs/Image; ``data`` is a uint8 view into the CDR bytes."""

    stamp_ns: int
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: np.ndarray


class _Reader:
    def __init__(self, raw: bytes | memoryview):
        self.buf = memoryview(raw)
        if len(self.buf) < 4:
            raise CdrError(f"{len(self.buf)} bytes cannot hold a CDR encapsulation header")
        self.order = "<" if self.buf[1] & 1 else ">"
        self.pos = 4

    def _take(self, n: int, align: int) -> int:
        self.pos = 4 + (self.pos - 4 + align - 1) // align * align
        start, self.pos = self.pos, self.pos + n
        if self.pos > len(self.buf):
            raise CdrError(f"truncated: needs {self.pos} bytes, has {len(self.buf)}")
        return start

    def u32(self, signed: bool = False) -> int:
        return struct.unpack_from(self.order + ("i" if signed else "I"), self.buf,
                                  self._take(4, 4))[0]

    def u8(self) -> int:
        return self.buf[self._take(1, 1)]

    def string(self) -> str:
        n = self.u32()
        if n == 0:
            raise CdrError("a string of length 0 (CDR strings carry their NUL)")
        start = self._take(n, 1)
        try:
            return bytes(self.buf[start:start + n - 1]).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CdrError(f"a string that is not UTF-8: {exc}") from None

    def octets(self) -> np.ndarray:
        n = self.u32()
        start = self._take(n, 1)
        return np.frombuffer(self.buf, np.uint8, count=n, offset=start)


def peek_image(raw: bytes | memoryview) -> ImageView:
    """The fields of a CDR-serialised sensor_msgs/Image (zero-copy ``data``); CdrError if the
    bytes end early or hold garbage lengths."""
    r = _Reader(raw)
    sec, nanosec = r.u32(signed=True), r.u32()
    if nanosec >= 1_000_000_000:
        raise CdrError(f"header.stamp.nanosec {nanosec} is not below 1e9")
    frame_id = r.string()
    height, width = r.u32(), r.u32()
    encoding = r.string()
    is_bigendian = r.u8()
    step = r.u32()
    data = r.octets()
    return ImageView(sec * 1_000_000_000 + nanosec, frame_id, height, width, encoding,
                     is_bigendian, step, data)
