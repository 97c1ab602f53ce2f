"""One log line per loaded path: how much data, at what size, and what was found."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .frames import ArrayFrame
from .source_data import Part, SourceData

if TYPE_CHECKING:
    from .sources import SourceConfig

log = logging.getLogger("training.data")


def _memory_mb(part: Part) -> float:
    return sum(f.arrays["image"].nbytes for s in part.seqs for f in s
               if isinstance(f, ArrayFrame)) / 1e6


def part_line(data: SourceData, part: Part, cfg: SourceConfig) -> str:
    """e.g. ``data.real video or3.mp4: 40 frames (of 40, stride 1), 320x240, 2.7 s at 15 fps,
    content 52.5% of the frame (detected), text 1.9% masked``."""
    h, w = part.native_size
    seqs = f" in {len(part.seqs)} sequences" if len(part.seqs) > 1 else ""
    out = f"data.{data.role} {data.kind} {part.name}: {part.frames} frames{seqs}"
    if cfg.stride > 1 or part.total > part.frames:
        out += f" (of {part.total}, stride {cfg.stride})"
    out += f", {w}x{h}"
    if cfg.size:
        out += f" loaded at {cfg.size[1]}x{cfg.size[0]}"
    if part.fps > 0:
        out += f", {part.total / part.fps:.1f} s at {part.fps:.3g} fps"
    mb = _memory_mb(part)
    if mb >= 1:
        out += f", {mb:.0f} MB in memory"
    return "; ".join([out, *part.info])


def summary_lines(data: SourceData, cfg: SourceConfig, note: str = "") -> list[str]:
    """The per-path lines, then the fields delivered (and the flow note)."""
    lines = [part_line(data, p, cfg) for p in data.parts]
    tail = f"data.{data.role}: fields {list(data.fields)}"
    return [*lines, f"{tail}; {note}" if note else tail]


def log_summary(data: SourceData, cfg: SourceConfig, note: str = "") -> None:
    """Log the summary lines and keep them in ``data.summary``."""
    data.summary = summary_lines(data, cfg, note)
    for line in data.summary:
        log.info("%s", line)
