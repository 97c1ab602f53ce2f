"""Writing stereo sequences: rosbag2 in the ``stereo_image_proc`` layout, folders, previews.

Bag topics for namespace ``<ns>`` (e.g. ``/sim/camera``): ``<ns>/left/<suffix>`` and
``<ns>/right/<suffix>`` with the mono suffixes (writers.TOPICS), plus the ground-truth
disparity on the left eye: ``<ns>/left/disparity`` (32FC1, pixels, left -> right) and
``<ns>/left/disparity_valid`` (mono8, 255 where the left pixel's surface point is visible in
the right image). Both eyes' messages of one instant carry the same ``header.stamp``; frame
ids are the eyes' optical frames; the right camera_info has ``P[3] = -fx * baseline``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.frame import StereoFrame
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.stereo import projection_right
from sim2real_gan.sim.writers import (
    TOPICS,
    TopicAdder,
    atomic_dir,
    check_streams,
    colorize_depth,
    write_frame_files,
)

DISPARITY_TOPICS: dict[str, tuple[str, str]] = {
    "disparity": ("sensor_msgs/msg/Image", "32FC1"),
    "disparity_valid": ("sensor_msgs/msg/Image", "mono8"),
}


def stereo_topics(ns: str, labelled: bool = True) -> list[str]:
    """Every topic written for namespace ``ns`` (in writing order)."""
    keep = [s for s in TOPICS if labelled or s in ("image_raw", "camera_info")]
    left = [f"{ns}/left/{s}" for s in keep]
    if labelled:
        left += [f"{ns}/left/{s}" for s in DISPARITY_TOPICS]
    return left + [f"{ns}/right/{s}" for s in keep]


def stereo_messages(sf: StereoFrame, appearance: str) -> dict[str, Any]:
    """{"left/<suffix>" | "right/<suffix>": rosbags message} for one stereo instant."""
    from sim2real_gan.io.ros_types import image_msg, make_header
    from sim2real_gan.sim.writers import frame_messages

    out: dict[str, Any] = {}
    for eye, f in (("left", sf.left), ("right", sf.right)):
        msgs = frame_messages(f, appearance, C.EYE_FRAME_IDS[eye])
        if eye == "right":
            msgs["camera_info"].p = projection_right(f.K, sf.baseline_m).reshape(-1)
        out.update({f"{eye}/{k}": m for k, m in msgs.items()})
        if eye == "left" and f.labelled(appearance):
            d, valid = sf.disparity_for(appearance)
            header = make_header(f.stamp_ns, C.EYE_FRAME_IDS["left"])
            out["left/disparity"] = image_msg(d, DISPARITY_TOPICS["disparity"][1], header)
            out["left/disparity_valid"] = image_msg(valid.view(np.uint8) * np.uint8(255),
                                                    DISPARITY_TOPICS["disparity_valid"][1], header)
    return out


def write_stereo_bag(path: str | os.PathLike, frames: Iterable[StereoFrame],
                     streams: Mapping[str, str], storage: str = "mcap",
                     overwrite: bool = False) -> int:
    """Write stereo instants to a new rosbag2 (atomic); returns the number written.

    streams: appearance -> namespace; the eyes go under ``<ns>/left`` and ``<ns>/right``.
    """
    from sim2real_gan.io.bag import BagWriter

    streams = check_streams(streams)
    count = 0
    with BagWriter(path, storage=storage, overwrite=overwrite) as bag:
        out = TopicAdder(bag)
        for sf in frames:
            for appearance, ns in streams.items():
                for suffix, msg in stereo_messages(sf, appearance).items():
                    out.write(f"{ns}/{suffix}", sf.stamp_ns, msg)
            count += 1
    return count


def write_stereo_folder(path: str | os.PathLike, frames: Iterable[StereoFrame],
                        appearances: Iterable[str], meta: Mapping[str, Any],
                        overwrite: bool = False) -> int:
    """Write stereo instants as files (atomic directory): ``meta.json``, ``content_mask.png``
    and ``left/`` + ``right/`` in the mono folder layout (writers.write_folder); the left
    NPZ also holds ``disparity`` (H,W) f32 and ``disparity_valid`` (H,W) bool. Returns the
    number of instants written."""
    apps = tuple(appearances)

    def fill(tmp: Path) -> int:
        count, first = 0, None
        for eye in ("left", "right"):
            (tmp / eye).mkdir()
        for sf in frames:
            extra = {"disparity": sf.disparity, "disparity_valid": sf.disparity_valid}
            write_frame_files(tmp / "left", sf.left, apps, extra)
            write_frame_files(tmp / "right", sf.right, apps)
            first = first or sf
            count += 1
        if first is not None and first.left.content_mask is not None:
            mask = first.left.content_mask.view(np.uint8) * np.uint8(255)
            cv2.imwrite(str(tmp / "content_mask.png"), mask)
        info = dict(meta, frames=count, appearances=list(apps), classes=list(C.CLASS_NAMES),
                    frame_ids=C.EYE_FRAME_IDS, baseline_m=first.baseline_m if first else None,
                    K_left=first.left.K.tolist() if first else None,
                    K_right=first.right.K.tolist() if first else None)
        (tmp / "meta.json").write_text(json.dumps(info, indent=2, default=str) + "\n")
        return count

    return atomic_dir(path, fill, overwrite)


def stereo_preview_strip(sim: EndoscopeSimulator, indices: Iterable[int],
                         appearance: str = "real") -> np.ndarray:
    """uint8 RGB image, one row per index: left | right | disparity (bright = near, black =
    invalid) | left depth."""
    rows = []
    for i in indices:
        sf = next(sim.stereo_frames(1, start=int(i), appearances=(appearance,)))
        d, v = sf.disparity, sf.disparity_valid
        lo, hi = (float(d[v].min()), float(d[v].max())) if v.any() else (0.0, 1.0)
        scaled = np.clip(255 * (d - lo) / max(hi - lo, 1e-6), 0, 255).astype(np.uint8)
        disp = cv2.applyColorMap(scaled, cv2.COLORMAP_VIRIDIS)[..., ::-1].copy()
        disp[~v] = 0
        rows.append(np.concatenate([sf.left.image(appearance), sf.right.image(appearance), disp,
                                    colorize_depth(sf.left.depth, sim.config.far_m)], axis=1))
    if not rows:
        raise ValueError("preview needs at least one frame")
    return np.concatenate(rows, axis=0)
