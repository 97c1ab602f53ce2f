"""Write a bag's image topics as files: PNG/NPZ per message, a contact sheet, an index.

``OUT/<topic path>/NNNNNN_<stamp ns>.<ext>`` per kept message (NNNNNN: the message's
number in its topic, from 0) (kinds and files:
``kinds.py``), ``OUT/contact_sheet.png`` (``sheet.py``), ``OUT/index.json`` (per topic: kind,
encoding, size, messages in the bag, dumped, skipped, folder). Every image topic is dumped
unless ``topics`` names some; each keeps every ``every``-th message, at most ``max``. A
message that cannot be decoded is skipped, counted and logged (first few); a bag without
image topics, or a named topic that is not an image topic of the bag, is an error.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .kinds import DISPARITY, IMAGE, kind_of, render, write_files
from .sheet import contact_sheet

__all__ = ["DumpConfig", "TopicDump", "dump_bag", "topic_folder", "INDEX", "SHEET"]

log = logging.getLogger("sim2real_gan.dump")

INDEX = "index.json"
SHEET = "contact_sheet.png"
LOGGED_SKIPS = 5


@dataclass(frozen=True)
class DumpConfig:
    """Which topics and messages; contact-sheet layout."""

    topics: tuple[str, ...] = ()      # empty: every image topic of the bag
    every: int = 1
    max: int = 0                      # per topic; 0 = all
    label_channel: int = 0
    sheet_frames: int = 6
    cell_height: int = 120

    def __post_init__(self) -> None:
        if self.every < 1 or self.max < 0 or self.sheet_frames < 1 or self.cell_height < 16:
            raise ValueError(f"dump: need every >= 1, max >= 0, sheet frames >= 1, cell height "
                             f">= 16; got {self.every}, {self.max}, {self.sheet_frames}, "
                             f"{self.cell_height}")

    def kept(self, count: int) -> int:
        """How many of ``count`` messages are dumped."""
        n = math.ceil(count / self.every)
        return min(n, self.max) if self.max else n


@dataclass
class TopicDump:
    """What was dumped of one topic (``index.json`` entry; ``picks`` feed the sheet)."""

    topic: str
    msgtype: str
    folder: str
    messages: int
    kind: str = ""
    encoding: str = ""
    size: list[int] = field(default_factory=list)   # [H, W]
    dumped: int = 0
    skipped: int = 0
    picks: list[tuple[str, np.ndarray]] = field(default_factory=list, repr=False)

    def entry(self) -> dict:
        d = asdict(self)
        d.pop("picks")
        return d


def topic_folder(topic: str, taken: set[str]) -> str:
    """A relative folder for ``topic``: its name components, each reduced to ROS name
    characters (so no name can reach outside OUT), made unique against ``taken``."""
    parts = [re.sub(r"[^A-Za-z0-9_]", "_", p) for p in topic.split("/") if p not in ("", ".")]
    base = "/".join(parts) or "_"
    name, k = base, 1
    while name in taken or name in (INDEX, SHEET):
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def _select(types: dict[str, str], counts: dict[str, int], cfg: DumpConfig,
            where: str) -> dict[str, str]:
    images = {t: ty for t, ty in sorted(types.items()) if ty in (IMAGE, DISPARITY)}
    if not images:
        raise ValueError(f"{where} has no image topics (expected {IMAGE} or {DISPARITY}); its "
                         f"topics: {sorted(types)}")
    for t in cfg.topics:
        if t not in images:
            raise ValueError(f"{where}: --topics {t} is not an image topic of the bag; its "
                             f"image topics: {sorted(images)}")
    chosen = {t: images[t] for t in (cfg.topics or images)}
    if not any(counts.get(t, 0) for t in chosen):
        raise ValueError(f"{where}: the image topics {sorted(chosen)} have no messages")
    return chosen


def _one(d: TopicDump, msg, stamp: int, index: int, root: Path, cfg: DumpConfig,
         pick: bool) -> None:
    """Decode, render and write message number ``index`` of its topic."""
    from sim2real_gan.io.image_codec import image_to_numpy

    img = msg.image if d.msgtype == DISPARITY else msg
    arr = np.array(image_to_numpy(img))
    if not d.kind:
        d.kind, d.encoding = kind_of(d.topic, d.msgtype, img.encoding), img.encoding
        d.size = [int(img.height), int(img.width)]
    r = render(d.kind, arr, img.encoding, cfg.label_channel, f"topic {d.topic}")
    write_files(root / d.folder, f"{index:06d}_{stamp}", r)
    d.dumped += 1
    if pick:
        d.picks.append((f"#{index}", r.picture))


def dump_bag(bag: str | Path, out: Path, cfg: DumpConfig) -> list[TopicDump]:
    """Dump ``bag`` into the new folder ``out`` (module docstring); returns per topic."""
    from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns
    from sim2real_gan.io.footage import sample_indices

    where = f"bag {bag}"
    with BagReader(bag) as reader:
        chosen = _select(reader.topics, reader.message_counts, cfg, where)
        taken: set[str] = set()
        dumps = {t: TopicDump(t, ty, topic_folder(t, taken), reader.message_counts.get(t, 0))
                 for t, ty in chosen.items()}
        picks = {t: set(sample_indices(cfg.kept(d.messages), cfg.sheet_frames).tolist())
                 if d.messages else set() for t, d in dumps.items()}
        out.mkdir(parents=True)
        for d in dumps.values():
            (out / d.folder).mkdir(parents=True, exist_ok=True)
        seen = dict.fromkeys(chosen, 0)
        for m in reader.messages(list(chosen)):
            d, i = dumps[m.topic], seen[m.topic]
            seen[m.topic] += 1
            if i % cfg.every or (cfg.max and i // cfg.every >= cfg.max):
                continue
            k = i // cfg.every
            try:
                stamp = cdr_header_stamp_ns(m.raw)
                _one(d, m.decode(), stamp, i, out, cfg, k in picks[m.topic])
            except (ValueError, KeyError, IndexError) as exc:
                d.skipped += 1
                if d.skipped <= LOGGED_SKIPS:
                    log.warning("%s: topic %s message %d skipped: %s", where, m.topic, i, exc)
    _finish(out, bag, list(dumps.values()), cfg)
    return list(dumps.values())


def _finish(out: Path, bag: str | Path, dumps: list[TopicDump], cfg: DumpConfig) -> None:
    """Write the contact sheet and the index."""
    from sim2real_gan.io.media import write_image

    order = {k: i for i, k in enumerate(("colour", "labels", "depth", "disparity", "flow", "uv",
                                          "mask"))}
    shown = sorted((d for d in dumps if d.picks), key=lambda d: (order.get(d.kind, 9), d.topic))
    if shown:
        first = next((d for d in shown if d.kind == "colour"), shown[0])
        h, w = first.size
        cell = (cfg.cell_height, max(16, round(cfg.cell_height * w / h)))
        rows = [(f"{d.topic}\n{d.kind} {d.encoding} {d.size[1]}x{d.size[0]}, {d.dumped} frames",
                 d.picks) for d in shown]
        cols = max(len(d.picks) for d in shown)
        write_image(out / SHEET, contact_sheet(rows, cols, cell))
    doc = {"format": "sim2real_gan.dump/1", "bag": str(bag), "every": cfg.every, "max": cfg.max,
           "label_channel": cfg.label_channel, "sheet": SHEET if shown else None,
           "topics": {d.topic: d.entry() for d in dumps}}
    (out / INDEX).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
