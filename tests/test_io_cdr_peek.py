"""io.cdr_peek: sensor_msgs/Image fields read from CDR bytes agree with rosbags' decoder."""

from __future__ import annotations

import numpy as np
import pytest
from sim2real_gan.io.cdr_peek import CdrError, peek_image
from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.io.ros_types import IMAGE, image_msg, make_header, typestore


@pytest.mark.parametrize("encoding,shape,dtype", [("mono8", (3, 5), np.uint8),
                                                  ("rgb8", (4, 6, 3), np.uint8),
                                                  ("32FC1", (7, 2), np.float32),
                                                  ("32FC2", (2, 3, 2), np.float32)])
@pytest.mark.parametrize("frame_id", ["", "c", "cam", "endoscope_optical_frame"])
def test_peek_matches_the_decoder(encoding: str, shape: tuple, dtype: type,
                                  frame_id: str) -> None:
    arr = np.random.default_rng(0).random(shape).astype(dtype) * 100
    raw = typestore().serialize_cdr(image_msg(arr.astype(dtype), encoding,
                                              make_header(12_345_678_901, frame_id)), IMAGE)
    view, msg = peek_image(raw), typestore().deserialize_cdr(raw, IMAGE)
    assert view.stamp_ns == 12_345_678_901 and view.frame_id == frame_id
    assert (view.height, view.width, view.encoding, view.is_bigendian, view.step) == (
        msg.height, msg.width, msg.encoding, msg.is_bigendian, msg.step)
    np.testing.assert_array_equal(view.data, msg.data)
    np.testing.assert_array_equal(image_to_numpy(view), arr.astype(dtype))
    assert not view.data.flags.owndata  # a view into the bytes, no copy


def test_truncated_or_garbage_bytes_are_refused() -> None:
    raw = bytes(typestore().serialize_cdr(image_msg(np.zeros((4, 4), np.uint8), "mono8",
                                                    make_header(1, "cam")), IMAGE))
    for cut in range(len(raw) - 1):
        with pytest.raises(CdrError):
            peek_image(raw[:cut])
    with pytest.raises(CdrError, match="nanosec"):
        peek_image(raw[:8] + b"\xff\xff\xff\xff" + raw[12:])
    with pytest.raises(CdrError, match="truncated"):
        peek_image(raw[:12] + b"\xff\xff\xff\x7f" + raw[16:])  # frame_id length absurd
