"""Message and file I/O: sensor_msgs/Image codec, ROS 2 types, rosbag2, folders and video.

No rclpy here: the codec is duck-typed and works on rclpy and rosbags messages alike.
"""

from sim2real_gan.io.bag import BagError, BagMessage, BagReader, BagWriter, TopicDef
from sim2real_gan.io.image_codec import (
    ENCODINGS,
    ImageEncodingError,
    ShapeMismatchError,
    StepError,
    TruncatedDataError,
    UnsupportedEncodingError,
    image_to_numpy,
    numpy_to_image_fields,
)
from sim2real_gan.io.ros_types import (
    camera_info_msg,
    image_msg,
    make_header,
    ns_to_stamp,
    stamp_to_ns,
    typestore,
)

__all__ = [
    "ENCODINGS",
    "BagError",
    "BagMessage",
    "BagReader",
    "BagWriter",
    "ImageEncodingError",
    "ShapeMismatchError",
    "StepError",
    "TopicDef",
    "TruncatedDataError",
    "UnsupportedEncodingError",
    "camera_info_msg",
    "image_msg",
    "image_to_numpy",
    "make_header",
    "ns_to_stamp",
    "numpy_to_image_fields",
    "stamp_to_ns",
    "typestore",
]
