"""What a data source delivered: sequences of frames, which fields they carry, and where
the flow came from. The trainer decides what to train from :attr:`SourceData.fields`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .frames import FrameRef

Sequence_ = list[FrameRef]
FLOW_KINDS = ("gt", "estimated", "none")


@dataclass
class Part:
    """One path (bag, folder, video) or simulator seed of a source.

    fields: the fields every frame of this part has; native_size (H, W) before any resize;
    fps: frame rate when known (0 otherwise); info: short notes for the summary line
    (topics used, what was ignored).
    """

    name: str
    seqs: list[Sequence_]
    fields: tuple[str, ...]
    native_size: tuple[int, int]
    fps: float = 0.0
    total: int = 0              # frames in the file/recording before stride/max_frames
    info: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return sum(len(s) for s in self.seqs)


@dataclass
class SourceData:
    """A loaded source (see ``sources.load_source``).

    seqs: sequences of frame references (consecutive frames; flow links t to t+1).
    fields: fields every frame has, ``image`` first (``flow``/``valid`` included when
    ground truth or estimated). flow: "gt" (recorded), "estimated" (computed from the
    images, see ``sim2real_gan.flow``) or "none". parts: per path, for summaries.
    """

    role: str
    kind: str
    seqs: list[Sequence_]
    fields: tuple[str, ...]
    flow: str = "none"
    parts: list[Part] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # the lines logged when it was loaded

    def has(self, name: str) -> bool:
        return name in self.fields

    def require(self, names: tuple[str, ...] | list[str], why: str = "") -> None:
        """Raise ValueError naming the first of ``names`` this source lacks."""
        missing = [n for n in names if n not in self.fields]
        if missing:
            src = ", ".join(p.name for p in self.parts) or self.kind
            raise ValueError(f"data.{self.role} ({self.kind} {src}) has no {missing[0]!r} "
                             f"field{' (' + why + ')' if why else ''}; it has "
                             f"{list(self.fields)}")
