"""What a data source can give, found without loading it: its fields and frame size, so a
recipe that cannot work fails before simulation, flow estimation, caches or segmenter
training. Cheap by construction: bag metadata and one image message, a folder listing and
one image, a video's header.

It follows the data layer's rules (training/data): bag topics as
``sim2real_gan.io.bag_topics.resolve_topics`` finds them, folder subfolders, and for the sim
role flow that is recorded or, with ``flow: auto|estimate``, estimated from the images. The trainer
checks the loaded source's fields again (training/fields.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
from sim2real_gan.io.bag_topics import resolve_topics

from .data.frames import FIELDS
from .data.sources import SourceConfig
from .data.stereo import STEREO_FIELDS, bag_topic_choice

FLOW = frozenset({"flow", "valid"})


@dataclass(frozen=True)
class SourceProbe:
    """``fields`` the source can give (None: unknown before loading), ``size`` (H, W) of its
    frames as loaded (None: unknown), ``where`` names it in messages."""

    fields: frozenset[str] | None
    size: tuple[int, int] | None
    where: str


Found = tuple[frozenset[str], tuple[int, int] | None]


def _where(src: SourceConfig, role: str) -> str:
    if src.kind == "synthetic":
        return f"data.{role}: synthetic"
    more = f" (+{len(src.paths) - 1})" if len(src.paths) > 1 else ""
    return f"data.{role}: {src.kind} {src.paths[0]}{more}"


def _bag(src: SourceConfig, role: str) -> Found:
    from sim2real_gan.io.bag import BagReader

    fields, size = set(FIELDS), None
    for path in src.paths:
        with BagReader(path) as reader:
            where = f"bag {path}"
            used = resolve_topics(reader.topics, FIELDS, bag_topic_choice(
                reader.topics, src, role, where), src.namespace, role, where)
            fields &= set(used)
            if size is None:
                msg = next(reader.messages([used["image"]]), None)
                img = None if msg is None else msg.decode()
                size = None if img is None else (int(img.height), int(img.width))
    return frozenset(fields), size


def _folder(src: SourceConfig, role: str) -> Found:
    from sim2real_gan.io.media import IMAGE_SUFFIXES

    fields, size = set(FIELDS), None
    for path in map(Path, src.paths):
        root = path / "image" if (path / "image").is_dir() else path
        fields &= {"image"} | {k for k in FIELDS if k != "image" and (path / k).is_dir()}
        first = min((p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                    default=None) if root.is_dir() else None
        img = None if first is None or size is not None else cv2.imread(str(first))
        size = size if img is None else (int(img.shape[0]), int(img.shape[1]))
    return frozenset(fields), size


def _video(src: SourceConfig, role: str) -> Found:
    cap = cv2.VideoCapture(str(src.paths[0]))
    try:
        h, w = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    finally:
        cap.release()
    return frozenset({"image"}), (h, w) if h > 0 and w > 0 else None


def _synthetic(src: SourceConfig, role: str) -> Found:
    stereo = frozenset() if src.stereo and role == "sim" else frozenset(STEREO_FIELDS)
    return frozenset(FIELDS) - {"mask"} - stereo, (src.height, src.width)


PROBES: dict[str, Callable[[SourceConfig, str], Found]] = {
    "synthetic": _synthetic, "bag": _bag, "folder": _folder, "video": _video}


def _with_flow(src: SourceConfig, role: str, fields: frozenset[str]) -> frozenset[str]:
    """Recorded flow counts only as a flow/valid pair; the sim role may estimate it."""
    recorded = FLOW <= fields and src.flow != "off"
    fields = fields - FLOW
    if role != "sim" or src.flow == "off":
        return fields
    if src.flow == "gt" and not recorded:
        raise ValueError(f"data.{role}: flow: gt, but the source has no flow/flow_valid (use "
                         "flow: auto to estimate it from the images)")
    return fields | FLOW if recorded or src.flow in ("auto", "estimate") else fields


def _with_disparity(src: SourceConfig, role: str, fields: frozenset[str]) -> frozenset[str]:
    """Stereo fields only from a stereo sim source; disparity may be estimated (SGBM)."""
    if not (src.stereo and role == "sim"):
        return fields - set(STEREO_FIELDS)
    disp = {"disparity", "disparity_valid"}
    if src.disparity == "off":
        return fields - disp
    if "right" in fields and src.disparity in ("auto", "estimate"):
        return fields | disp
    if src.disparity == "gt" and not disp <= fields:
        raise ValueError(f"data.{role}: disparity: gt, but the source has no disparity/"
                         "disparity_valid (use disparity: auto to estimate it with SGBM)")
    return fields


def probe_source(src: SourceConfig, role: str) -> SourceProbe:
    """Probe ``src`` (role "sim" | "real"); a path that does not exist is FileNotFoundError,
    a bag whose image topic cannot be told is the data layer's ValueError."""
    for p in src.paths if src.kind != "synthetic" else []:
        if not Path(p).exists():
            raise FileNotFoundError(f"data.{role}.paths: {p} does not exist")
    probe = PROBES.get(src.kind)
    if probe is None:
        return SourceProbe(None, None, _where(src, role))
    fields, size = probe(src, role)
    fields = _with_disparity(src, role, fields)
    if src.size:
        size = (int(src.size[0]), int(src.size[1]))
    return SourceProbe(_with_flow(src, role, fields), size, _where(src, role))
