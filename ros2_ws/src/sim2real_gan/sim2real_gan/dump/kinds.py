"""What an image topic holds, and the files one of its messages becomes.

The kind is told from the topic's name (the names ``io.bag_topics`` knows: Gazebo's,
``simulate``'s, ``stereo_image_proc``'s) and the first message's encoding:

- ``colour``: 8-bit rgb/bgr/rgba/bgra/mono, the name not a label/mask/depth: ``<i>.png``;
- ``labels`` (a name part ``segmentation``, ``labels_map``, ``seg``, ``labels``, ...):
  ``<i>.png`` raw class ids (8- or 16-bit, one channel) and ``<i>_color.png``;
- ``mask`` (``flow_valid``, ``disparity_valid``, ``*_valid``, ``mask``): ``<i>.png`` as stored;
- ``depth`` (a name part ``depth``, or an unnamed 16UC1/32FC1), ``disparity`` (Image or
  stereo_msgs/DisparityImage named ``disparity``), ``uv`` (2-channel, named ``uv``) and
  ``flow`` (other 2-channel float): ``<i>.npz`` (the values under the kind's name) and a
  ``<i>.png`` picture (``visual.py``).

with ``<i>`` = ``NNNNNN_<stamp ns>``. A 3-channel labels image (Gazebo's ``labels_map``)
keeps channel ``label_channel`` (0 by default; Gazebo's panoptic mode: 2) as the class ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .visual import depth_colors, flow_colors, label_colors, mask_colors, scalar_colors

__all__ = ["KINDS", "IMAGE", "DISPARITY", "kind_of", "Rendered", "render", "write_files"]

IMAGE = "sensor_msgs/msg/Image"
DISPARITY = "stereo_msgs/msg/DisparityImage"
KINDS = ("colour", "labels", "mask", "depth", "disparity", "uv", "flow")
_LABEL_WORDS = {"segmentation", "labels_map", "seg", "labels", "label", "semantic"}
_COLOUR_ENC = {"rgb8", "bgr8", "rgba8", "bgra8", "mono8"}


def _words(topic: str) -> list[str]:
    return [w for w in topic.strip("/").split("/") if w]


def kind_of(topic: str, msgtype: str, encoding: str) -> str:
    """The kind of an Image (or DisparityImage) topic (module docstring)."""
    words = _words(topic)
    last = words[-1] if words else ""
    if msgtype == DISPARITY or (last == "disparity"):
        return "disparity"
    if last.endswith("_valid") or last == "mask":
        return "mask"
    if _LABEL_WORDS & set(words):
        return "labels"
    if encoding.endswith("C2"):
        return "uv" if last == "uv" else "flow"
    if "depth" in words:
        return "depth"
    if encoding in _COLOUR_ENC:
        return "colour"
    return "depth"  # a one-channel 16-bit or float image without a telling name


@dataclass
class Rendered:
    """One message as files: ``picture`` uint8 (H,W,3) RGB for people and the contact
    sheet; ``raw_png`` the exact ids/mask as an image (labels, mask); ``array`` the values
    (depth, disparity, flow) saved as NPZ under ``key``."""

    picture: np.ndarray
    raw_png: np.ndarray | None = None
    array: np.ndarray | None = None
    key: str = ""
    colour_file: bool = True      # with raw_png: also write the picture as <i>_color.png


def _ids(arr: np.ndarray, channel: int, where: str) -> np.ndarray:
    if arr.ndim == 3:
        if channel >= arr.shape[2]:
            raise ValueError(f"{where}: labels have {arr.shape[2]} channels; --label-channel "
                             f"{channel} does not exist")
        arr = arr[:, :, channel]
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"{where}: labels of dtype {arr.dtype}; expected 8- or 16-bit class ids")
    return np.ascontiguousarray(arr)


def render(kind: str, arr: np.ndarray, encoding: str, label_channel: int = 0,
           where: str = "message") -> Rendered:
    """Decoded image array (as ``io.image_to_numpy`` gives it) -> :class:`Rendered`."""
    if kind == "colour":
        rgb = arr[:, :, 2::-1] if encoding in ("bgr8", "bgra8") else arr
        rgb = np.repeat(rgb[:, :, None], 3, axis=2) if rgb.ndim == 2 else rgb[:, :, :3]
        return Rendered(np.ascontiguousarray(rgb))
    if kind == "labels":
        ids = _ids(arr, label_channel, where)
        return Rendered(label_colors(ids), raw_png=ids)
    if kind == "mask":
        raw = np.ascontiguousarray(arr.reshape(arr.shape[:2]))
        return Rendered(mask_colors(raw), raw_png=raw, colour_file=False)
    if kind in ("flow", "uv"):
        f = arr.astype(np.float32).reshape(*arr.shape[:2], 2)
        if kind == "flow":
            return Rendered(flow_colors(f), array=f, key="flow")
        rg = np.clip(np.nan_to_num(f) * 255, 0, 255).astype(np.uint8)
        return Rendered(np.dstack([rg, np.zeros(f.shape[:2], np.uint8)]), array=f, key="uv")
    values = arr.reshape(arr.shape[:2])
    picture = depth_colors(values) if kind == "depth" else scalar_colors(values.astype(np.float64))
    return Rendered(picture, array=np.array(values), key=kind)


def write_files(folder: Path, stem: str, r: Rendered) -> list[str]:
    """Write one message's files into ``folder``; returns their names."""
    def png(name: str, img: np.ndarray) -> None:
        arr = img[:, :, ::-1] if img.ndim == 3 else img
        if not cv2.imwrite(str(folder / name), np.ascontiguousarray(arr)):
            raise OSError(f"cannot write {folder / name}")

    names = []
    if r.array is not None:
        np.savez_compressed(folder / f"{stem}.npz", **{r.key: r.array})
        names.append(f"{stem}.npz")
    if r.raw_png is not None:
        png(f"{stem}.png", r.raw_png)
        if not r.colour_file:
            return names + [f"{stem}.png"]
        png(f"{stem}_color.png", r.picture)
        return names + [f"{stem}.png", f"{stem}_color.png"]
    png(f"{stem}.png", r.picture)
    return names + [f"{stem}.png"]
