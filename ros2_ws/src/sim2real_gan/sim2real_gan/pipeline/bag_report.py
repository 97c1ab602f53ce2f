"""What a ``translate-bag`` run did, and whether it counts as a success.

Shared by ``sim2real-gan translate-bag`` and ``sim2real-gan demo``: a run succeeds when at
least one frame was translated and the share of dropped frames is at most
``max_drop_fraction`` (default :data:`DEFAULT_MAX_DROP_FRACTION`). Frames are counted per
image message; exact duplicates of an image message are not frames and are left out of the
share (they are still listed among the message drops).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim2real_gan.pipeline.bag_config import DEFAULT_MAX_DROP_FRACTION
from sim2real_gan.pipeline.stats import StatsSnapshot
from sim2real_gan.pipeline.sync import CAMERA_INFO_KEY, IMAGE_KEY
from sim2real_gan.pipeline.topics import TopicPlan

if TYPE_CHECKING:
    from sim2real_gan.pipeline.message_step import StepTimes

__all__ = ["DEFAULT_MAX_DROP_FRACTION", "BagTranslateReport", "NothingTranslated"]


@dataclass
class BagTranslateReport:
    """Frame counts, drops by reason, faults, timings, the output topics.

    ``written`` is False when nothing was translated: then no output bag exists.
    """

    images_in: int
    frames_out: int
    messages_copied: int
    output_topics: dict[str, str]
    stats: StatsSnapshot
    times: StepTimes
    wall_s: float
    message_path_s: float  # CDR decode + translate step + CDR encode, summed over frames
    plan: TopicPlan = field(repr=False)
    faults: str = "none"  # FaultLog.summary(): counts and a first example per reason
    written: bool = True
    unit: str = "frames"  # "pairs" for a stereo camera (one frame = both eyes)
    notes: list[str] = field(default_factory=list)  # stereo: baseline check, never-matched

    @property
    def message_path_fps(self) -> float:
        return self.frames_out / self.message_path_s if self.message_path_s > 0 else 0.0

    @property
    def frames_in(self) -> int:
        """Image messages that were frames (duplicates of an image message left out)."""
        dup = self.stats.message_drops_by_key.get(IMAGE_KEY, {}).get("duplicate", 0)
        return self.images_in - dup + self.stats.peer_only_frames  # stereo: right eye only

    @property
    def frames_dropped(self) -> int:
        return self.frames_in - self.frames_out

    @property
    def drop_fraction(self) -> float:
        return self.frames_dropped / self.frames_in if self.frames_in else 1.0

    @property
    def key_topics(self) -> dict[str, str]:
        """Synchroniser part key -> input topic (labels are keyed by their topic already)."""
        info = {CAMERA_INFO_KEY: self.plan.camera_info.src} if self.plan.camera_info else {}
        return {IMAGE_KEY: self.plan.image.src, **info}

    def reasons(self) -> str:
        """Every drop reason with its count, e.g. ``frames: decode 1; messages: late 2 (...)``."""
        return (f"frames: {self.stats.frame_drops_text()}; messages: "
                f"{self.stats.message_drops_text(self.key_topics)}")

    def verdict(self, max_drop_fraction: float = DEFAULT_MAX_DROP_FRACTION) -> str | None:
        """None when the run succeeded, else one line saying why not (the reasons are in
        :meth:`reasons`)."""
        u = self.unit
        if self.frames_in == 0:
            return f"nothing translated: the bag has no message on {self.plan.image.src}"
        if self.frames_out == 0:
            why = "".join(f"; {n}" for n in self.notes if n.startswith("no stereo pair"))
            return f"nothing translated: all {self.frames_in} {u} were dropped{why}"
        if self.drop_fraction > max_drop_fraction:
            return (f"{self.frames_dropped} of {self.frames_in} {u} dropped "
                    f"({100 * self.drop_fraction:.1f}% > --max-drop-fraction "
                    f"{max_drop_fraction:g})")
        return None

    def line(self) -> str:
        s = self.stats
        episodes = (f"; {s.episodes} episodes ({s.resets} resets), {s.reordered} out-of-order "
                    "images kept" if s.resets or s.reordered or s.episodes > 1 else "")
        notes = "".join(f"; {n}" for n in self.notes)
        rate = "fps" if self.unit == "frames" else f"{self.unit}/s"
        return (f"{self.frames_out}/{self.frames_in} {self.unit} translated (dropped: "
                f"{s.frame_drops_text()}; messages dropped: "
                f"{s.message_drops_text(self.key_topics)})"
                f"{episodes}, {self.messages_copied} other messages copied; engine "
                f"{self.times.engine_fps:.1f} {rate}, message path (CDR decode + translate + CDR "
                f"encode) {self.message_path_fps:.1f} {rate}, wall {self.wall_s:.1f} s"
                f"{notes}")


class NothingTranslated(Exception):
    """Raised by a command inside its staged output when no frame was translated, so that the
    output is discarded (nothing half-made remains); carries the report."""

    def __init__(self, report: BagTranslateReport):
        super().__init__(report.verdict() or "nothing translated")
        self.report = report
