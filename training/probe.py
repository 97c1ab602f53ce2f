"""What a data source holds, found without loading it: the fields it can give and the
frame size, so a recipe that cannot work fails before simulation, caches or segmenter
training. Cheap by construction: bag metadata and one image message, a folder listing and
one image, a video's header.

``fields`` is None where only loading would tell (a kind this module does not know);
the trainer then checks the first loaded frame instead (training/fields.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

from .data.frames import FIELDS
from .data.sources import DEFAULT_NAMESPACE, SIM_TOPICS, SourceConfig

#: every field a source may give (FIELDS plus the paired ``target`` image)
ALL_FIELDS = (*FIELDS, "target")


@dataclass(frozen=True)
class SourceProbe:
    """``fields`` the source holds (None: unknown before loading), ``size`` (H, W) of its
    frames as loaded (None: unknown), ``where`` names it in messages."""

    fields: frozenset[str] | None
    size: tuple[int, int] | None
    where: str


def _where(src: SourceConfig, role: str) -> str:
    if src.kind == "synthetic":
        return f"data.{role}: synthetic"
    more = f" (+{len(src.paths) - 1})" if len(src.paths) > 1 else ""
    return f"data.{role}: {src.kind} {src.paths[0]}{more}"


def _bag_topic(src: SourceConfig, role: str, field: str) -> str:
    """The topic the bag source reads ``field`` from (same rule as training/data/sources)."""
    if field in src.topics:
        return src.topics[field]
    if field == "target":
        return f"{DEFAULT_NAMESPACE['real']}/image_raw"
    ns = (src.namespace or DEFAULT_NAMESPACE[role]).rstrip("/")
    return f"{ns}/{SIM_TOPICS.get(field, field)}"


def _bag(src: SourceConfig, role: str) -> tuple[frozenset[str], tuple[int, int] | None]:
    from sim2real_gan.io.bag import BagReader

    fields, size = set(ALL_FIELDS), None
    for path in src.paths:
        with BagReader(path) as reader:
            fields &= {k for k in ALL_FIELDS if _bag_topic(src, role, k) in reader.topics}
            if size is None and "image" in fields:
                msg = next(reader.messages([_bag_topic(src, role, "image")]), None)
                img = None if msg is None else msg.decode()
                size = None if img is None else (int(img.height), int(img.width))
    return frozenset(fields), size


def _folder(src: SourceConfig, role: str) -> tuple[frozenset[str], tuple[int, int] | None]:
    from sim2real_gan.io.media import IMAGE_SUFFIXES

    fields, size = set(ALL_FIELDS), None
    for path in map(Path, src.paths):
        if not (path / "image").is_dir():  # a flat folder of images
            fields &= {"image"}
            root = path
        else:
            fields &= {"image"} | {k for k in ALL_FIELDS if (path / k).is_dir()}
            root = path / "image"
        first = min((p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                    default=None)
        img = None if first is None or size is not None else cv2.imread(str(first))
        size = size if img is None else (int(img.shape[0]), int(img.shape[1]))
    return frozenset(fields), size


def _video(src: SourceConfig, role: str) -> tuple[frozenset[str], tuple[int, int] | None]:
    cap = cv2.VideoCapture(str(src.paths[0]))
    try:
        h, w = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    finally:
        cap.release()
    return frozenset({"image"}), (h, w) if h > 0 and w > 0 else None


def _synthetic(src: SourceConfig, role: str) -> tuple[frozenset[str], tuple[int, int] | None]:
    return frozenset(ALL_FIELDS), (src.height, src.width)


PROBES: dict[str, Callable[[SourceConfig, str], tuple[frozenset[str], tuple[int, int] | None]]] = {
    "synthetic": _synthetic, "bag": _bag, "folder": _folder, "video": _video}


def probe_source(src: SourceConfig, role: str) -> SourceProbe:
    """Probe ``src`` (role "sim" | "real"); a path that does not exist is FileNotFoundError."""
    for p in src.paths if src.kind != "synthetic" else []:
        if not Path(p).exists():
            raise FileNotFoundError(f"data.{role}.paths: {p} does not exist")
    probe = PROBES.get(src.kind)
    fields, size = probe(src, role) if probe is not None else (None, None)
    if src.size:
        size = (int(src.size[0]), int(src.size[1]))
    return SourceProbe(fields, size, _where(src, role))
