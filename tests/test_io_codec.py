"""sensor_msgs/Image codec: round trips, padding, byte order, zero-copy, specific errors."""

from __future__ import annotations

import array
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sim2real_gan.io.image_codec import (
    ENCODINGS,
    ShapeMismatchError,
    StepError,
    TruncatedDataError,
    UnsupportedEncodingError,
    from_rgb8,
    image_to_numpy,
    numpy_to_image_fields,
    to_rgb8,
)
from sim2real_gan.io.ros_types import (
    camera_info_K,
    camera_info_msg,
    image_msg,
    make_header,
    stamp_to_ns,
    typestore,
)


def _random_array(rng: np.random.Generator, encoding: str, h: int, w: int) -> np.ndarray:
    dtype, ch = ENCODINGS[encoding]
    shape = (h, w) if ch == 1 else (h, w, ch)
    if dtype == np.float32:
        return rng.standard_normal(shape).astype(np.float32) * 100
    return rng.integers(0, np.iinfo(dtype).max, size=shape, endpoint=True).astype(dtype)


def _msg(**fields) -> SimpleNamespace:
    return SimpleNamespace(**fields)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_round_trip_every_encoding_through_cdr(encoding: str) -> None:
    rng = np.random.default_rng(0)
    arr = _random_array(rng, encoding, 7, 5)
    msg = image_msg(arr, encoding, make_header(123, "cam"))
    raw = typestore().serialize_cdr(msg, "sensor_msgs/msg/Image")
    back = image_to_numpy(typestore().deserialize_cdr(raw, "sensor_msgs/msg/Image"))
    assert back.dtype == ENCODINGS[encoding][0]
    assert back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


@settings(max_examples=60, deadline=None)
@given(
    encoding=st.sampled_from(sorted(ENCODINGS)),
    h=st.integers(0, 9),
    w=st.integers(0, 9),
    pad=st.integers(0, 13),
    big=st.booleans(),
    container=st.sampled_from(["numpy", "bytes", "array", "bytearray"]),
    seed=st.integers(0, 2**16),
)
def test_round_trip_property(encoding, h, w, pad, big, container, seed) -> None:
    arr = _random_array(np.random.default_rng(seed), encoding, h, w)
    dtype, ch = ENCODINGS[encoding]
    row = w * ch * dtype.itemsize
    fields = numpy_to_image_fields(arr, encoding, step=row + pad, bigendian=big)
    assert fields["step"] == row + pad
    assert fields["is_bigendian"] == int(big and dtype.itemsize > 1)
    data = fields["data"]
    fields["data"] = {
        "numpy": data,
        "bytes": data.tobytes(),
        "array": array.array("B", data.tobytes()),  # what rclpy gives
        "bytearray": bytearray(data.tobytes()),
    }[container]
    back = image_to_numpy(_msg(**fields))
    assert back.dtype == dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, arr)


def test_big_endian_bytes_are_really_big_endian() -> None:
    arr = np.array([[0x0102, 0x0304]], dtype=np.uint16)
    fields = numpy_to_image_fields(arr, "mono16", bigendian=True)
    assert fields["data"].tobytes() == b"\x01\x02\x03\x04"
    assert image_to_numpy(_msg(**fields)).tolist() == [[0x0102, 0x0304]]


def test_zero_copy_decode_shares_memory() -> None:
    arr = np.random.default_rng(1).random((6, 4, 2), dtype=np.float32)
    fields = numpy_to_image_fields(arr, "32FC2")
    assert np.shares_memory(fields["data"], arr)  # encode is zero-copy too
    msg = image_msg(arr, "32FC2", make_header(0, "c"))
    out = image_to_numpy(msg)
    assert np.shares_memory(out, msg.data)
    rclpy_like = _msg(**{**fields, "data": array.array("B", fields["data"].tobytes())})
    assert np.shares_memory(image_to_numpy(rclpy_like), np.frombuffer(rclpy_like.data, np.uint8))


def test_padded_or_foreign_endian_decodes_to_a_copy() -> None:
    arr = np.arange(12, dtype=np.uint16).reshape(3, 4)
    padded = numpy_to_image_fields(arr, "16UC1", step=10)
    out = image_to_numpy(_msg(**padded))
    assert out.flags.c_contiguous and not np.shares_memory(out, padded["data"])
    swapped = numpy_to_image_fields(arr, "16UC1", bigendian=sys.byteorder == "little")
    out = image_to_numpy(_msg(**swapped))
    assert not np.shares_memory(out, swapped["data"])
    np.testing.assert_array_equal(out, arr)


def test_unsupported_encoding_names_the_choices() -> None:
    with pytest.raises(UnsupportedEncodingError, match=r"'yuv422'.*rgb8"):
        image_to_numpy(_msg(height=1, width=1, encoding="yuv422", is_bigendian=0, step=2,
                            data=b"\0\0"))
    with pytest.raises(UnsupportedEncodingError, match="bayer"):
        numpy_to_image_fields(np.zeros((2, 2), np.uint8), "bayer_rggb8")


def test_step_smaller_than_row_is_a_step_error() -> None:
    with pytest.raises(StepError, match=r"step 8 .*12 B"):
        image_to_numpy(_msg(height=2, width=4, encoding="rgb8", is_bigendian=0, step=8,
                            data=bytes(16)))
    with pytest.raises(StepError, match="step 3"):
        numpy_to_image_fields(np.zeros((2, 2), np.uint16), "mono16", step=3)


def test_truncated_data_names_expected_and_actual() -> None:
    with pytest.raises(TruncatedDataError, match=r"needs 24 bytes.*got 23"):
        image_to_numpy(_msg(height=2, width=4, encoding="rgb8", is_bigendian=0, step=12,
                            data=bytes(23)))


def test_too_much_data_is_a_size_mismatch() -> None:
    with pytest.raises(ShapeMismatchError, match=r"needs 8 bytes.*got 12"):
        image_to_numpy(_msg(height=2, width=2, encoding="mono16", is_bigendian=0, step=4,
                            data=bytes(12)))


@pytest.mark.parametrize(
    ("arr", "encoding", "pattern"),
    [
        (np.zeros((4, 4, 3), np.uint8), "mono8", r"\(H, W\).*\(4, 4, 3\)"),
        (np.zeros((4, 4), np.uint8), "rgb8", r"\(H, W, 3\).*\(4, 4\)"),
        (np.zeros((4, 4, 4), np.uint8), "rgb8", r"\(H, W, 3\).*\(4, 4, 4\)"),
        (np.zeros((4, 4), np.float64), "32FC1", "float32.*float64"),
        (np.zeros((4, 4), np.uint8), "16UC1", "uint16.*uint8"),
    ],
)
def test_encode_shape_or_dtype_mismatch(arr, encoding, pattern) -> None:
    with pytest.raises(ShapeMismatchError, match=pattern):
        numpy_to_image_fields(arr, encoding)


def test_colour_conversions() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (3, 5, 3), dtype=np.uint8)
    for enc in ("rgb8", "bgr8", "rgba8", "bgra8"):
        as_enc = from_rgb8(rgb, enc)
        np.testing.assert_array_equal(to_rgb8(as_enc, enc), rgb)
    np.testing.assert_array_equal(from_rgb8(rgb, "bgr8")[..., 0], rgb[..., 2])
    with pytest.raises(UnsupportedEncodingError, match="32FC1"):
        to_rgb8(np.zeros((2, 2), np.float32), "32FC1")


def test_camera_info_helpers() -> None:
    K = np.array([[200.0, 0, 64], [0, 210.0, 48], [0, 0, 1]])  # noqa: N806
    info = camera_info_msg(K, 128, 96, make_header(5_000_000_001, "cam"))
    raw = typestore().serialize_cdr(info, "sensor_msgs/msg/CameraInfo")
    back = typestore().deserialize_cdr(raw, "sensor_msgs/msg/CameraInfo")
    np.testing.assert_array_equal(camera_info_K(back), K)
    assert (back.width, back.height) == (128, 96) and len(back.d) == 5
    assert stamp_to_ns(back.header.stamp) == 5_000_000_001
    np.testing.assert_array_equal(np.asarray(back.p).reshape(3, 4)[:, :3], K)
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(2, 2\)"):
        camera_info_msg(np.eye(2), 4, 4, make_header(0, "c"))
