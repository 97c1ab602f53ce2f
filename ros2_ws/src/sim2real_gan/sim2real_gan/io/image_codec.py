"""``sensor_msgs/Image`` <-> numpy, without cv_bridge and without rclpy.

Works on any object with ``height, width, encoding, is_bigendian, step, data`` attributes:
``rosbags`` messages (``data`` is a numpy uint8 array), rclpy messages (``data`` is an
``array.array('B')``), or plain namespaces holding ``bytes``/``bytearray``/``memoryview``.

Decoding returns a *view* of the message buffer (no copy) when the rows are unpadded, the
byte order is native and the buffer is aligned; otherwise it returns a fresh contiguous copy.
Views of immutable buffers (``bytes``) are read-only.

Example:
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> rgb = np.zeros((2, 3, 3), np.uint8)
    >>> msg = SimpleNamespace(**numpy_to_image_fields(rgb, "rgb8"))
    >>> image_to_numpy(msg).shape
    (2, 3, 3)
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

# encoding -> (element dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
    "32FC2": (np.dtype(np.float32), 2),
}

_NATIVE_BIG = sys.byteorder == "big"


class ImageEncodingError(ValueError):
    """Base class: an Image message or array does not match its declared encoding."""


class UnsupportedEncodingError(ImageEncodingError):
    """The encoding string is not one of ``ENCODINGS``."""


class StepError(ImageEncodingError):
    """``step`` is smaller than one row of pixels."""


class TruncatedDataError(ImageEncodingError):
    """``data`` holds fewer bytes than ``height * step``."""


class ShapeMismatchError(ImageEncodingError):
    """Array shape or dtype, or the data length, disagrees with the encoding / size."""


def encoding_info(encoding: str) -> tuple[np.dtype, int]:
    """(dtype, channels) of an encoding, or UnsupportedEncodingError."""
    try:
        return ENCODINGS[encoding]
    except (KeyError, TypeError):
        raise UnsupportedEncodingError(
            f"unsupported image encoding {encoding!r}; expected one of {sorted(ENCODINGS)}"
        ) from None


def _byte_buffer(data: Any) -> np.ndarray:
    """Message ``data`` -> 1-D uint8 array sharing memory where the object allows it."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise ShapeMismatchError(f"Image.data must be uint8, got dtype {data.dtype}")
        return data.reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)  # bytes, bytearray, memoryview, array.array
    except (TypeError, ValueError):
        return np.asarray(list(data), dtype=np.uint8)  # list / sequence (e.g. rclpy fallback)


def image_to_numpy(msg: Any) -> np.ndarray:
    """Decode an Image message.

    Returns:
        (H,W) for one-channel encodings, (H,W,C) otherwise, in the encoding's dtype with
        native byte order. Channel order is the encoding's (bgr8 stays BGR).
    Raises:
        UnsupportedEncodingError, StepError, TruncatedDataError, ShapeMismatchError.
    """
    dtype, channels = encoding_info(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height < 0 or width < 0:
        raise ShapeMismatchError(f"image size must be >= 0, got {width}x{height}")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise StepError(
            f"step {step} is smaller than one row of a {width}-pixel {msg.encoding} image "
            f"({width} x {channels} ch x {dtype.itemsize} B = {row_bytes} B)"
        )
    buf = _byte_buffer(msg.data)
    expected = height * step
    if buf.size < expected:
        raise TruncatedDataError(
            f"{msg.encoding} image {width}x{height} with step {step} needs {expected} bytes "
            f"of data, got {buf.size}"
        )
    if buf.size > expected:
        raise ShapeMismatchError(
            f"{msg.encoding} image {width}x{height} with step {step} needs {expected} bytes "
            f"of data, got {buf.size} (height/width/step disagree with the data)"
        )
    shape = (height, width) if channels == 1 else (height, width, channels)
    if expected == 0:
        return np.zeros(shape, dtype=dtype)
    big = bool(msg.is_bigendian) and dtype.itemsize > 1
    src_dtype = dtype.newbyteorder(">" if big else "<")
    strides = (step, channels * dtype.itemsize, dtype.itemsize)[: len(shape)]
    view = np.ndarray(shape=shape, dtype=src_dtype, buffer=buf, strides=strides)
    native = dtype.itemsize == 1 or big == _NATIVE_BIG
    if native and view.flags.c_contiguous and view.flags.aligned:
        return view.view(dtype)
    return np.ascontiguousarray(view, dtype=dtype)


def numpy_to_image_fields(
    array: np.ndarray, encoding: str, step: int | None = None, bigendian: bool | None = None
) -> dict[str, Any]:
    """Encode an array as Image fields (everything but the header).

    Args:
        array: (H,W) or (H,W,1) for one-channel encodings, (H,W,C) otherwise, with the
            encoding's dtype (any byte order).
        encoding: one of ``ENCODINGS``.
        step: row length in bytes; None = tightly packed. A larger step pads each row
            with zero bytes (used by tests and by publishers that need aligned rows).
        bigendian: byte order to write; None = native (zero-copy for contiguous input).
    Returns:
        dict(height, width, encoding, is_bigendian, step, data) where ``data`` is a 1-D
        contiguous np.uint8 array (a view of ``array`` when no conversion was needed).
    """
    dtype, channels = encoding_info(encoding)
    arr = np.asarray(array)
    if channels == 1 and arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    want_ndim = 2 if channels == 1 else 3
    if arr.ndim != want_ndim or (channels > 1 and arr.shape[2] != channels):
        want = "(H, W)" if channels == 1 else f"(H, W, {channels})"
        raise ShapeMismatchError(f"{encoding} needs an array of shape {want}, got {arr.shape}")
    if arr.dtype.newbyteorder("=") != dtype.newbyteorder("="):
        raise ShapeMismatchError(f"{encoding} needs dtype {dtype}, got {arr.dtype}")
    big = _NATIVE_BIG if bigendian is None else bool(bigendian)
    height, width = arr.shape[:2]
    row_bytes = width * channels * dtype.itemsize
    step = row_bytes if step is None else int(step)
    if step < row_bytes:
        raise StepError(f"step {step} is smaller than one {encoding} row of {row_bytes} bytes")
    target = dtype.newbyteorder(">" if big else "<") if dtype.itemsize > 1 else dtype
    packed = np.ascontiguousarray(arr, dtype=target)
    if step == row_bytes:
        data = packed.reshape(-1).view(np.uint8)
    else:
        rows = np.zeros((height, step), dtype=np.uint8)
        rows[:, :row_bytes] = packed.reshape(-1).view(np.uint8).reshape(height, row_bytes)
        data = rows.reshape(-1)
    return {
        "height": int(height),
        "width": int(width),
        "encoding": encoding,
        "is_bigendian": int(big and dtype.itemsize > 1),
        "step": int(step),
        "data": data,
    }


def to_rgb8(array: np.ndarray, encoding: str) -> np.ndarray:
    """Decoded colour image in any of rgb8/bgr8/rgba8/bgra8/mono8 -> uint8 (H,W,3) RGB."""
    if encoding == "rgb8":
        return array
    if encoding == "bgr8":
        return np.ascontiguousarray(array[:, :, ::-1])
    if encoding == "rgba8":
        return np.ascontiguousarray(array[:, :, :3])
    if encoding == "bgra8":
        return np.ascontiguousarray(array[:, :, 2::-1])
    if encoding == "mono8":
        return np.repeat(array[:, :, None], 3, axis=2)
    raise UnsupportedEncodingError(
        f"cannot use {encoding!r} as a colour image; expected rgb8, bgr8, rgba8, bgra8 or mono8"
    )


def from_rgb8(rgb: np.ndarray, encoding: str) -> np.ndarray:
    """uint8 (H,W,3) RGB -> array in ``encoding`` (rgb8/bgr8/rgba8/bgra8; alpha = 255)."""
    if encoding == "rgb8":
        return rgb
    if encoding == "bgr8":
        return np.ascontiguousarray(rgb[:, :, ::-1])
    if encoding in ("rgba8", "bgra8"):
        out = np.full(rgb.shape[:2] + (4,), 255, dtype=np.uint8)
        out[:, :, :3] = rgb if encoding == "rgba8" else rgb[:, :, ::-1]
        return out
    raise UnsupportedEncodingError(
        f"cannot write a colour image as {encoding!r}; expected rgb8, bgr8, rgba8 or bgra8"
    )
