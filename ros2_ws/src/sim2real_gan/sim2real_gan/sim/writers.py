"""Writing simulated sequences: rosbag2 (MCAP / sqlite3), plain folders, preview strips.

Every output is written to a temporary sibling and renamed into place when complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from sim2real_gan.io.staging import atomic_path
from sim2real_gan.sim import config as C
from sim2real_gan.sim.simulator import EndoscopeSimulator, Frame

IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
# topic suffix -> (message type, encoding); the contract of docs/ARCHITECTURE.md.
TOPICS: dict[str, tuple[str, str | None]] = {
    "image_raw": (IMAGE, "rgb8"),
    "camera_info": (CAMERA_INFO, None),
    "segmentation": (IMAGE, "mono8"),
    "depth": (IMAGE, "32FC1"),
    "uv": (IMAGE, "32FC2"),
    "flow": (IMAGE, "32FC2"),
    "flow_valid": (IMAGE, "mono8"),
}


def check_namespace(ns: str) -> str:
    """Validate a topic namespace like ``/sim/camera``; returns it without a trailing '/'."""
    ns = ns.rstrip("/")
    parts = ns.split("/")
    ok = ns.startswith("/") and all(p and (p[0].isalpha() or p[0] == "_") and
                                    all(ch.isalnum() or ch == "_" for ch in p) for p in parts[1:])
    if not ok or len(parts) < 2:
        raise ValueError(f"namespace must look like '/sim/camera' (ROS name tokens), got {ns!r}")
    return ns


def frame_messages(frame: Frame, appearance: str,
                   frame_id: str = C.FRAME_ID) -> dict[str, Any]:
    """{topic suffix: rosbags message} for one frame, all with one header
    (stamp = ``frame.stamp_ns``, ``frame_id``).

    The label planes are those of ``appearance``'s image (``Frame.ground_truth``: for
    ``real``, class 0 / depth 0 / invalid flow in the black surround). An unlabelled image
    (``real`` with barrel distortion) gets only ``image_raw`` and ``camera_info``, the latter
    with its plumb_bob coefficients.
    """
    from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header

    header = make_header(frame.stamp_ns, frame_id)
    h, w = frame.labels.shape
    out = {"image_raw": image_msg(frame.image(appearance), TOPICS["image_raw"][1], header)}
    if frame.labelled(appearance):
        gt = frame.ground_truth(appearance)
        arrays = {"segmentation": gt.labels, "depth": gt.depth, "uv": gt.uv, "flow": gt.flow,
                  "flow_valid": gt.flow_valid.view(np.uint8) * np.uint8(255)}
        out.update({k: image_msg(a, TOPICS[k][1], header) for k, a in arrays.items()})
        out["camera_info"] = camera_info_msg(frame.K, w, h, header)
    else:
        k, d = frame.real_camera
        out["camera_info"] = camera_info_msg(k, w, h, header, D=d)
    return out


class TopicAdder:
    """Adds each topic to a BagWriter the first time a message for it is written (the set
    of topics depends on the frames: unlabelled images have no label topics)."""

    def __init__(self, bag: Any):
        self.bag, self.seen = bag, set()

    def write(self, topic: str, stamp_ns: int, msg: Any) -> None:
        if topic not in self.seen:
            self.bag.add_topic(topic, msg.__msgtype__)
            self.seen.add(topic)
        self.bag.write(topic, stamp_ns, msg)


def check_streams(streams: Mapping[str, str]) -> dict[str, str]:
    """Validate appearance -> namespace (distinct, ROS names)."""
    out = {a: check_namespace(ns) for a, ns in streams.items()}
    if len(set(out.values())) != len(out):
        raise ValueError(f"each appearance needs its own namespace, got {dict(streams)}")
    return out


def write_bag(path: str | os.PathLike, frames: Iterable[Frame], streams: Mapping[str, str],
              storage: str = "mcap", overwrite: bool = False) -> int:
    """Write frames to a new rosbag2 (atomic). Returns the number of frames written.

    Args:
        frames: simulator frames carrying every appearance named in ``streams``.
        streams: appearance -> namespace, e.g. ``{"sim": "/sim/camera"}``; several entries
            write the same frames under several namespaces (paired data).
        storage: ``"mcap"`` or ``"sqlite3"``.
    """
    from sim2real_gan.io.bag import BagWriter

    streams = check_streams(streams)
    count = 0
    with BagWriter(path, storage=storage, overwrite=overwrite) as bag:
        out = TopicAdder(bag)
        for frame in frames:
            for appearance, ns in streams.items():
                for suffix, msg in frame_messages(frame, appearance).items():
                    out.write(f"{ns}/{suffix}", frame.stamp_ns, msg)
            count += 1
    return count


def write_folder(path: str | os.PathLike, frames: Iterable[Frame], appearances: Iterable[str],
                 meta: Mapping[str, Any], overwrite: bool = False) -> int:
    """Write frames as files (atomic directory). Returns the number of frames written.

    Layout: ``meta.json``; ``content_mask.png`` (255 where the ``real`` image shows the scene,
    the same for every frame); per frame ``NNNNNN_<appearance>.png`` (RGB),
    ``NNNNNN_labels.png`` (class ids, 8-bit grey) and ``NNNNNN.npz`` (depth (H,W) f32 m, uv
    (H,W,2) f32, flow (H,W,2) f32 px, flow_valid (H,W) bool, K (3,3) f64, stamp_ns int64).
    Labels and the npz planes are the pinhole view's (``Frame.ground_truth("sim")``).
    """
    apps = tuple(appearances)

    def fill(tmp: Path) -> int:
        count = 0
        for f in frames:
            write_frame_files(tmp, f, apps)
            if count == 0 and f.content_mask is not None:
                _imwrite(tmp / "content_mask.png", f.content_mask.view(np.uint8) * np.uint8(255))
            count += 1
        info = dict(meta, frames=count, appearances=list(apps), classes=list(C.CLASS_NAMES),
                    frame_id=C.FRAME_ID)
        (tmp / "meta.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        return count

    return atomic_dir(path, fill, overwrite)


def write_frame_files(folder: Path, f: Frame, apps: tuple[str, ...],
                      extra: Mapping[str, np.ndarray] | None = None) -> None:
    """One frame's PNGs and NPZ (see :func:`write_folder`); ``extra`` arrays join the NPZ."""
    stem = f"{f.index:06d}"
    for a in apps:
        _imwrite(folder / f"{stem}_{a}.png", f.image(a)[..., ::-1])
    _imwrite(folder / f"{stem}_labels.png", f.labels)
    np.savez(folder / f"{stem}.npz", depth=f.depth, uv=f.uv, flow=f.flow,
             flow_valid=f.flow_valid, K=f.K, stamp_ns=np.int64(f.stamp_ns), **(extra or {}))


def atomic_dir(path: str | os.PathLike, fill: Any, overwrite: bool) -> int:
    """Create ``path`` atomically through :func:`sim2real_gan.io.staging.atomic_path`:
    ``fill(tmp_dir) -> int`` writes into a temporary sibling, renamed into place when
    complete; on any error or interruption the sibling and the parents made for it go."""
    with atomic_path(path, replace=overwrite) as built:
        built.mkdir()
        count = fill(built)
    return count


def _imwrite(path: Path, image: np.ndarray) -> None:
    if not cv2.imwrite(str(path), np.ascontiguousarray(image)):
        raise OSError(f"could not write {path}")


def colorize_depth(depth: np.ndarray, far_m: float) -> np.ndarray:
    """float32 (H,W) metres -> uint8 (H,W,3) RGB (near bright, background black)."""
    scaled = np.clip(255.0 * (1.0 - depth / far_m), 0, 255).astype(np.uint8)
    rgb = cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)[..., ::-1]
    rgb[depth <= 0] = 0
    return rgb


def preview_strip(sim: EndoscopeSimulator, indices: Iterable[int]) -> np.ndarray:
    """uint8 RGB image, one row per frame index: sim | real | labels | depth."""
    rows = []
    for i in indices:
        f = next(sim.frames(1, start=int(i), appearances=("sim", "real")))
        rows.append(np.concatenate([f.image("sim"), f.image("real"), C.colorize_labels(f.labels),
                                    colorize_depth(f.depth, sim.config.far_m)], axis=1))
    if not rows:
        raise ValueError("preview needs at least one frame")
    return np.concatenate(rows, axis=0)


def write_preview(path: str | os.PathLike, sim: EndoscopeSimulator, frames: int,
                  rows: int = 4) -> Path:
    """Write a PNG preview strip of ``rows`` frames spread over ``frames`` (atomic); for a
    stereo scope the columns are left | right | disparity | depth (stereo_writers.py)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"preview must be a .png file, got {path}")
    indices = np.unique(np.linspace(0, max(frames - 1, 0), min(rows, max(frames, 1))).round())
    if sim.config.stereo is not None:
        from sim2real_gan.sim.stereo_writers import stereo_preview_strip

        strip = stereo_preview_strip(sim, indices.astype(int))
    else:
        strip = preview_strip(sim, indices.astype(int))
    with atomic_path(path, replace=True) as built:  # parents it made go again on failure
        _imwrite(built, strip[..., ::-1])
    return path


def progress(frames: Iterator[Frame], total: int, enabled: bool = True) -> Iterator[Frame]:
    """Wrap a frame iterator in a tqdm progress bar."""
    yield from tqdm(frames, total=total, desc="simulate", unit="frame", disable=not enabled)
