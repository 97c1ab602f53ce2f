"""A camera recording in a rosbag2 (MCAP or sqlite3), as frames grouped by header stamp.

Messages are grouped by ``header.stamp`` (exactly equal stamps form one frame; bag receive
times are ignored). The image topic sets the frames; each other field found
(:func:`sim2real_gan.io.bag_topics.resolve_topics`) must share stamps with it: a field that
never does is an error, image frames lacking a field are dropped and counted. A stamp gap
larger than 1.5x the median step starts a new sequence (:func:`split_on_gaps`). Raw CDR
bytes are kept; :func:`decode_parts` + :func:`clean_frame` turn one stamp's messages into
arrays with our conventions (Gazebo's 3-channel ``labels_map`` -> one channel, depth +inf
-> 0). Camera intrinsics and poses come from ``camera_info`` and ``/tf`` when both exist
(:meth:`Recording.cameras`).

Shared by training (``training.data``), evaluation (``sim2real_gan.eval.own_data``) and
``dump``. numpy + rosbags only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim2real_gan.flow.camera import Camera
from sim2real_gan.flow.tf_poses import TfBuffer, camera_frame, optical_pose

from .bag_topics import Option, recipe_option, resolve_topics

__all__ = ["Recording", "read_recording", "decode_parts", "clean_frame", "split_on_gaps"]

log = logging.getLogger("sim2real_gan.recording")

Parts = dict[str, tuple[str, bytes]]  # field -> (msgtype, raw CDR)
COLOUR = ("image", "target", "right")  # 8-bit RGB fields (``right``: a stereo right eye)


def _to_rgb(arr: np.ndarray, encoding: str) -> np.ndarray:
    if encoding in ("bgr8", "bgra8"):
        arr = arr[:, :, 2::-1]
    elif arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


def decode_parts(parts: Parts, where: str) -> dict[str, np.ndarray]:
    """One stamp's messages -> arrays: ``image``/``target`` uint8 (H,W,3) RGB, ``valid``
    bool, every other field as its encoding gives it (copies, not views of the buffer).

    Raises ValueError naming ``where`` when the image is not an 8-bit colour/mono image.
    """
    from sim2real_gan.io.bag import BagMessage
    from sim2real_gan.io.image_codec import image_to_numpy

    out: dict[str, np.ndarray] = {}
    for k, (msgtype, raw) in parts.items():
        msg = BagMessage(k, msgtype, 0, raw).decode()
        arr = np.array(image_to_numpy(msg))  # copy: decoded views borrow the buffer
        if k in COLOUR:
            if arr.dtype != np.uint8:
                raise ValueError(f"{where}: {k} has encoding {msg.encoding!r}; expected "
                                 f"an 8-bit colour or mono image (rgb8, bgr8, mono8, ...)")
            arr = _to_rgb(arr, msg.encoding)
        elif k in ("valid", "disparity_valid"):
            arr = arr > 0
        out[k] = arr
    return out


def clean_frame(fr: dict[str, np.ndarray], label_channel: int = 0,
                where: str = "frame") -> dict[str, np.ndarray]:
    """Bring simulator conventions to ours, and check every field has the image's size.

    3-channel labels -> channel ``label_channel``; depth: 16-bit millimetres -> metres,
    non-finite or negative -> 0 (no surface).
    Raises ValueError naming ``where`` and the field when sizes differ.
    """
    hw = fr["image"].shape[:2]
    lab = fr.get("labels")
    if lab is not None and lab.ndim == 3:
        fr["labels"] = np.ascontiguousarray(lab[:, :, label_channel])
    for key in ("depth", "right_depth"):  # right_depth: a stereo right eye's
        d = fr.get(key)
        if d is not None:
            d = d.reshape(d.shape[:2]) if d.ndim == 3 and d.shape[2] == 1 else d
            d = d.astype(np.float32) / 1000 if d.dtype == np.uint16 else d  # REP 118: mm
            fr[key] = np.where(np.isfinite(d) & (d > 0), d, 0).astype(np.float32)
    disp = fr.get("disparity")  # stereo: left -> right pixels; non-finite -> 0, invalid
    if disp is not None:
        disp = disp.reshape(disp.shape[:2]).astype(np.float32)
        ok = np.isfinite(disp)
        fr["disparity"] = np.where(ok, disp, 0).astype(np.float32)
        if "disparity_valid" in fr:
            fr["disparity_valid"] = fr["disparity_valid"].reshape(disp.shape) & ok
    for k, v in fr.items():
        if v.shape[:2] != hw:
            raise ValueError(f"{where}: {k} is {v.shape[1]}x{v.shape[0]} but the image is "
                             f"{hw[1]}x{hw[0]} (expected the same size)")
    return fr


def split_on_gaps(stamps: list[int]) -> list[list[int]]:
    """Indices into ``stamps`` per sequence: split where the stamp step exceeds 1.5x the
    median step (a new sequence began)."""
    if len(stamps) < 3:
        return [list(range(len(stamps)))]
    steps = np.diff(np.asarray(stamps, np.int64))
    cut = np.nonzero(steps > 1.5 * np.median(steps))[0]
    bounds = [0, *(int(c) + 1 for c in cut), len(stamps)]
    return [list(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


@dataclass
class Recording:
    """A bag's frames (module docstring).

    topics: field -> topic (``image`` first; ``camera_info`` when found); stamps: image
    stamps (ns, ascending) that have every field; parts: stamp -> field -> (msgtype, raw);
    images: image messages in the bag; types: every topic -> message type.
    """

    path: str
    topics: dict[str, str]
    types: dict[str, str]
    stamps: list[int]
    parts: dict[int, Parts]
    images: int
    camera_info: Any = None          # first camera_info BagMessage, or None
    tf: TfBuffer | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"bag {self.path}"

    @property
    def fields(self) -> tuple[str, ...]:
        """Frame fields (``image`` first), without ``camera_info``."""
        return tuple(k for k in self.topics if k != "camera_info")

    @property
    def fps(self) -> float:
        """Frame rate from the median stamp step (0 with fewer than 2 frames)."""
        steps = np.diff(np.asarray(self.stamps, np.int64))
        return float(1e9 / np.median(steps)) if len(steps) else 0.0

    def frame_where(self, stamp: int) -> str:
        return f"{self.where} at stamp {stamp} ns"

    def decode(self, stamp: int, label_channel: int = 0) -> dict[str, np.ndarray]:
        """The frame at ``stamp`` as cleaned arrays (:func:`decode_parts`, :func:`clean_frame`)."""
        where = self.frame_where(stamp)
        return clean_frame(decode_parts(self.parts[stamp], where), label_channel, where)

    def check_first(self, label_channel: int = 0) -> tuple[int, int]:
        """Decode the first frame: every field and camera_info must have the image's size.

        Returns (H, W). Raises ValueError naming both topics and sizes.
        """
        raw = decode_parts(self.parts[self.stamps[0]], self.where)
        h, w = raw["image"].shape[:2]
        for k, a in raw.items():
            if a.shape[:2] != (h, w):
                raise ValueError(f"{self.where}: {k} topic {self.topics[k]} is {a.shape[1]}x"
                                 f"{a.shape[0]} but image topic {self.topics['image']} is "
                                 f"{w}x{h} (expected the same size)")
        lab = raw.get("labels")
        if lab is not None and lab.ndim == 3 and label_channel == 0 and not (
                np.array_equal(lab[..., 0], lab[..., 1])
                and np.array_equal(lab[..., 0], lab[..., 2])):
            log.warning("%s: labels topic %s has 3 different channels; using channel 0 "
                        "(Gazebo's panoptic labels_map keeps the class in channel 2: set the "
                        "label channel to 2)", self.where, self.topics["labels"])
        if self.camera_info is not None:
            msg = self.camera_info.decode()
            if (int(msg.width), int(msg.height)) != (w, h):
                raise ValueError(f"{self.where}: camera_info topic {self.topics['camera_info']}"
                                 f" says {msg.width}x{msg.height} but the images are {w}x{h}")
        return h, w

    def cameras(self, tf_frame: str = "", convention: str = "auto"
                ) -> tuple[list[Camera] | None, str]:
        """One :class:`Camera` per stamp when camera_info and a /tf pose exist, and a note
        saying where the pose came from or why there is none ("" without camera_info/tf)."""
        from sim2real_gan.io.bag import BagMessage
        from sim2real_gan.io.ros_types import camera_info_K

        if self.camera_info is None or self.tf is None:
            return None, ""
        info = self.camera_info.decode()
        msgtype, raw = self.parts[self.stamps[0]]["image"]
        frame_id = BagMessage("image", msgtype, 0, raw).decode().header.frame_id
        name = camera_frame(self.tf, frame_id, tf_frame, self.where)
        if name is None:
            return None, (f"camera pose: not told by /tf (moving leaf frames "
                          f"{self.tf.moving_leaves()}, none named {frame_id!r}; set tf_frame)")
        k = camera_info_K(info)
        size = (int(info.height), int(info.width))
        poses = [self.tf.pose(name, s) for s in self.stamps]
        missing = sum(p is None for p in poses)
        if missing:
            return None, (f"camera pose: /tf frame {name} has no transform near {missing} "
                          f"image stamps")
        return ([Camera(k, optical_pose(p, name, convention), size) for p in poses],
                f"camera pose from /tf frame {name}")


def _read(path: str, topics: dict[str, str], tf: bool) -> tuple[dict[int, Parts], Any,
                                                                  TfBuffer | None]:
    """stamp -> field -> (msgtype, raw); the first camera_info message; with ``tf`` a
    :class:`TfBuffer` of /tf and /tf_static (None when the bag has neither)."""
    from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns

    by_topic = {t: k for k, t in topics.items() if k != "camera_info"}
    stamps: dict[int, Parts] = {}
    info = None
    buf = TfBuffer()
    wanted = list(by_topic) + ([topics["camera_info"]] if "camera_info" in topics else [])
    with BagReader(path) as reader:
        tf_topics = [t for t in ("/tf", "/tf_static") if tf and t in reader.topics]
        for m in reader.messages(wanted + tf_topics):
            if m.topic in tf_topics:
                buf.add(m.decode(), static=m.topic == "/tf_static")
            elif m.topic not in by_topic:
                info = info or m
            else:
                stamps.setdefault(cdr_header_stamp_ns(m.raw), {})[by_topic[m.topic]] = (
                    m.msgtype, m.raw)
    if buf.links:
        buf.finish()
    return stamps, info, buf if buf.links else None


def _match(stamps: dict[int, Parts], topics: dict[str, str], where: str,
           option: Option) -> list[int]:
    """Image stamps that have every field; errors for fields that never match."""
    images = sorted(s for s, d in stamps.items() if "image" in d)
    if not images:
        raise ValueError(f"{where}: image topic {topics['image']} has no messages "
                         f"(expected camera images)")
    for k, t in topics.items():
        if k in ("image", "camera_info"):
            continue
        own = sorted(s for s, d in stamps.items() if k in d)
        if not any(k in stamps[s] for s in images):
            raise ValueError(
                f"{where}: {k} topic {t} never has the header.stamp of an image on "
                f"{topics['image']} ({len(own)} {k} messages, first stamp "
                f"{own[0] if own else '-'} ns; first image stamp {images[0]} ns); record "
                f"them from one simulation step, or leave {k} out ({option(k, True)})")
    complete = [s for s in images if all(k in stamps[s] for k in topics if k != "camera_info")]
    if len(complete) < len(images):
        log.info("%s: %d of %d image frames dropped (a %s message with their stamp is missing)",
                 where, len(images) - len(complete), len(images),
                 "/".join(k for k in topics if k not in ("image", "camera_info")))
    return complete


def read_recording(path: str | Path, wanted: tuple[str, ...], topics: dict[str, str] | None = None,
                   namespace: str = "", role: str = "sim", option: Option | None = None,
                   tf: bool | None = None) -> Recording:
    """Read a bag's image topic and every ``wanted`` field it has (see module docstring).

    Args:
        wanted: frame fields to look for (``labels``, ``depth``, ``flow``, ``valid``, ...).
        topics, namespace, role, option: topic choice (:func:`resolve_topics`).
        tf: read /tf and /tf_static (default: when depth is used, for camera motion).
    Raises:
        ValueError / BagError naming the bag and the topic: no image topic, no image
        messages, a field that never shares an image's stamp.
    """
    from sim2real_gan.io.bag import BagReader

    path = str(path)
    where = f"bag {path}"
    with BagReader(path) as reader:
        types = dict(reader.topics)
        counts = dict(reader.message_counts)
    used = resolve_topics(types, wanted, topics or {}, namespace, role, where, option)
    stamps, info, buf = _read(path, used, tf="depth" in used if tf is None else tf)
    complete = _match(stamps, used, where, option or recipe_option(role))
    fields = [k for k in used if k != "camera_info"]
    parts = {s: {k: stamps[s][k] for k in fields} for s in complete}
    return Recording(path, used, types, complete, parts, counts.get(used["image"], 0), info, buf)
