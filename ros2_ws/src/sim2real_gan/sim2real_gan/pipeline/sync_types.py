"""Configuration and value types of the synchroniser (:mod:`sim2real_gan.pipeline.sync`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IMAGE_KEY = "image"
CAMERA_INFO_KEY = "camera_info"
POLICIES = ("latest", "ordered")


@dataclass(frozen=True)
class SyncConfig:
    """Synchroniser settings.

    Args:
        label_keys: names of the required label parts (e.g. topic names); each frame waits
            for one message of every key.
        camera_info: also require a camera_info message per frame.
        slop_ns: largest stamp difference between a part and its image (0 = identical).
        hold_ns: how long (injected clock) an incomplete frame or orphan label is held.
        max_pending: most frames held at once (incomplete + ready); also per-key orphans.
        policy: ``"latest"`` or ``"ordered"``.
        reorder_ns: reorder window (stamp time): an image at most this far behind the newest
            is an out-of-order arrival, further back is a reset (new episode).
        episode_gap_ns: a forward stamp jump larger than this starts an episode (0 = never).
        peer_image_keys: label keys that are the images of other views of the same frame
            (stereo: the right eye's image). One that waited ``hold_ns`` without its frame's
            image drops that frame as ``incomplete`` (the image missing), counted once:
            the pair is lost whichever eye is missing.
    """

    label_keys: tuple[str, ...] = ()
    camera_info: bool = True
    slop_ns: int = 0
    hold_ns: int = 200_000_000
    max_pending: int = 8
    policy: str = "latest"
    reorder_ns: int = 200_000_000
    episode_gap_ns: int = 0
    peer_image_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        keys = tuple(self.label_keys)
        object.__setattr__(self, "label_keys", keys)
        if len(set(keys)) != len(keys):
            raise ValueError(f"label_keys must be unique, got {list(keys)}")
        reserved = {IMAGE_KEY, CAMERA_INFO_KEY} & set(keys)
        if reserved:
            raise ValueError(f"label_keys may not use the reserved names {sorted(reserved)}")
        times = {"slop_ns": self.slop_ns, "hold_ns": self.hold_ns,
                 "reorder_ns": self.reorder_ns, "episode_gap_ns": self.episode_gap_ns}
        negative = {k: v for k, v in times.items() if v < 0}
        if negative:
            raise ValueError(f"times must be >= 0, got {negative}")
        object.__setattr__(self, "peer_image_keys", tuple(self.peer_image_keys))
        stray = sorted(set(self.peer_image_keys) - set(keys))
        if stray:
            raise ValueError(f"peer_image_keys {stray} are not label keys {list(keys)}")
        if self.max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {self.max_pending}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")

    @property
    def part_keys(self) -> tuple[str, ...]:
        """Keys other than the image that every frame needs."""
        return self.label_keys + ((CAMERA_INFO_KEY,) if self.camera_info else ())


@dataclass
class Frame:
    """One synchronised frame. ``labels`` maps every label key to its message."""

    stamp_ns: int
    image: Any
    labels: dict[str, Any]
    camera_info: Any | None
    arrival_ns: int  # clock time at which the image arrived (latency origin)
    part_stamps: dict[str, int] = field(default_factory=dict)  # key -> that part's stamp
    episode: int = 1  # 1, 2, ...: a reset or an episode gap starts the next one
    completed_ns: int = 0  # clock time at which the last part arrived

    @property
    def order(self) -> tuple[int, int]:
        """Output order: episode, then stamp."""
        return self.episode, self.stamp_ns


@dataclass
class _Pending:
    """An image waiting for its parts (internal)."""

    stamp_ns: int
    episode: int
    first_ns: int
    arrival_ns: int
    image: Any
    parts: dict[str, tuple[int, Any]]


@dataclass
class _Orphan:
    """A part waiting for its image (internal)."""

    msg: Any
    arrived_ns: int
    behind: bool  # far behind the stream when it came: maybe before a reset, else late
