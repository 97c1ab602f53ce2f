"""rosbag2 recordings (MCAP or sqlite3) as frame sequences.

Messages are grouped by ``header.stamp`` (exactly equal stamps form one frame; bag receive
times are ignored). The image topic sets the frames; each other field found
(``bag_topics.resolve_topics``) must share stamps with it: a field that never does is an
error, image frames lacking a field are dropped and counted. A stamp gap larger than 1.5x
the median step starts a new sequence. Raw CDR bytes are kept and decoded in the workers.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sim2real_gan.io.ros_types import camera_info_K

from .bag_topics import resolve_topics
from .frames import BagFrame, Camera, FrameRef
from .source_data import Part, Sequence_
from .tf_poses import TfBuffer, camera_frame, optical_pose

if TYPE_CHECKING:
    from .sources import SourceConfig

log = logging.getLogger("training.data")


def _read(path: str, topics: dict[str, str], tf: bool) -> tuple[dict[int, dict], dict[str, Any]]:
    """stamp -> field -> (msgtype, raw); and the first camera_info message plus, when
    ``tf``, a :class:`TfBuffer` of /tf and /tf_static (under ``"tf"``)."""
    from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns

    by_topic = {t: k for k, t in topics.items() if k != "camera_info"}
    stamps: dict[int, dict[str, tuple[str, bytes]]] = {}
    extra: dict[str, Any] = {}
    buf = TfBuffer()
    wanted = list(by_topic) + ([topics["camera_info"]] if "camera_info" in topics else [])
    with BagReader(path) as reader:
        tf_topics = [t for t in ("/tf", "/tf_static") if tf and t in reader.topics]
        for m in reader.messages(wanted + tf_topics):
            if m.topic in tf_topics:
                buf.add(m.decode(), static=m.topic == "/tf_static")
            elif m.topic not in by_topic:
                extra.setdefault("camera_info", m)
            else:
                stamps.setdefault(cdr_header_stamp_ns(m.raw), {})[by_topic[m.topic]] = (
                    m.msgtype, m.raw)
    if buf.links:
        buf.finish()
        extra["tf"] = buf
    return stamps, extra


def _match(stamps: dict[int, dict], topics: dict[str, str], where: str) -> list[int]:
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
                f"them from one simulation step, or set {k}: '' in the source's topics")
    complete = [s for s in images if all(k in stamps[s] for k in topics if k != "camera_info")]
    if len(complete) < len(images):
        log.info("%s: %d of %d image frames dropped (a %s message with their stamp is missing)",
                 where, len(images) - len(complete), len(images),
                 "/".join(k for k in topics if k not in ("image", "camera_info")))
    return complete


def _check_first(frame: BagFrame, topics: dict[str, str], info: Any, where: str) -> tuple[
        int, int]:
    """Decode one frame: every field and camera_info must have the image's size."""
    raw = frame._load()
    h, w = raw["image"].shape[:2]
    for k, a in raw.items():
        if a.shape[:2] != (h, w):
            raise ValueError(f"{where}: {k} topic {topics[k]} is {a.shape[1]}x{a.shape[0]} "
                             f"but image topic {topics['image']} is {w}x{h} (expected the "
                             f"same size)")
    lab = raw.get("labels")
    if lab is not None and lab.ndim == 3 and frame.label_channel == 0 and not (
            np.array_equal(lab[..., 0], lab[..., 1]) and np.array_equal(lab[..., 0], lab[..., 2])):
        log.warning("%s: labels topic %s has 3 different channels; using channel 0 (Gazebo's "
                    "panoptic labels_map keeps the class in channel 2: set label_channel: 2)",
                    where, topics["labels"])
    if info is not None:
        msg = info.decode()
        if (int(msg.width), int(msg.height)) != (w, h):
            raise ValueError(f"{where}: camera_info topic {topics['camera_info']} says "
                             f"{msg.width}x{msg.height} but the images are {w}x{h}")
    return h, w


def split_on_gaps(frames: list[FrameRef], stamps: list[int]) -> list[Sequence_]:
    """Split where the stamp step exceeds 1.5x the median step (a new sequence began)."""
    if len(stamps) < 3:
        return [frames]
    steps = np.diff(np.asarray(stamps, np.int64))
    cut = np.nonzero(steps > 1.5 * np.median(steps))[0]
    bounds = [0, *(int(c) + 1 for c in cut), len(frames)]
    return [frames[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _cameras(frames: list[BagFrame], stamps: list[int], extra: dict[str, Any],
             cfg: SourceConfig, where: str) -> str:
    """Give each frame its :class:`Camera` when camera_info and a /tf pose exist; returns
    a note for the summary line."""
    if "camera_info" not in extra or "tf" not in extra:
        return ""
    info = extra["camera_info"].decode()
    header = frames[0].raw["image"]
    from sim2real_gan.io.bag import BagMessage

    frame_id = BagMessage("image", header[0], 0, header[1]).decode().header.frame_id
    buf: TfBuffer = extra["tf"]
    name = camera_frame(buf, frame_id, cfg.tf_frame, where)
    if name is None:
        return (f"camera pose: not told by /tf (moving leaf frames {buf.moving_leaves()}, "
                f"none named {frame_id!r}; set tf_frame)")
    k = camera_info_K(info)
    size = (int(info.height), int(info.width))
    poses = [buf.pose(name, s) for s in stamps]
    if any(p is None for p in poses):
        missing = sum(p is None for p in poses)
        return f"camera pose: /tf frame {name} has no transform near {missing} image stamps"
    for f, p in zip(frames, poses, strict=True):
        f.camera = Camera(k, optical_pose(p, name, cfg.tf_convention), size)
    return f"camera pose from /tf frame {name}"


def read_bag_part(path: str, role: str, wanted: tuple[str, ...], cfg: SourceConfig,
                  size: tuple[int, int] | None) -> Part:
    """One bag as a :class:`Part` with the image and every wanted field it has."""
    from sim2real_gan.io.bag import BagReader

    where = f"bag {path}"
    with BagReader(path) as reader:
        types = reader.topics
    used = resolve_topics(types, wanted, cfg.topics, cfg.namespace, role, where)
    stamps, extra = _read(path, used, tf="depth" in used)
    complete = _match(stamps, used, where)
    fields = tuple(k for k in used if k != "camera_info")
    frames = [BagFrame({k: stamps[s][k] for k in fields}, size=size,
                       label_channel=cfg.label_channel, where=f"{where} at stamp {s} ns")
              for s in complete]
    h, w = _check_first(frames[0], used, extra.get("camera_info"), where)
    steps = np.diff(np.asarray(complete, np.int64))
    fps = float(1e9 / np.median(steps)) if len(steps) else 0.0
    info = [" ".join(f"{k}={t}" for k, t in used.items())]
    pose_note = _cameras(frames, complete, extra, cfg, where)
    if pose_note:
        info.append(pose_note)
    ignored = sorted({"/tf", "/tf_static", "/clock"} & set(types) - (
        {"/tf", "/tf_static"} if "tf" in extra else set()))
    if ignored:
        info.append(f"{', '.join(ignored)} not used")
    return Part(Path(path).name, split_on_gaps(frames, complete), fields, (h, w), fps,
                len(complete), info)
