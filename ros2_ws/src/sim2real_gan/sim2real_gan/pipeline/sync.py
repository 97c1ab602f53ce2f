"""Stamp-keyed synchroniser: an image topic with its label topics and camera_info.

Every message is added with its header stamp (ns). A *frame* is one image plus one message
of every required part (label keys and, optionally, camera_info) with the same stamp (or
within ``slop_ns``). Messages are opaque: rclpy messages, rosbags messages or raw bag
records all work. Time for the hold tolerance comes from an injected clock, never sleep.

Policies:
    ``latest``  (the node) the consumer gets the newest complete frame; older complete or
                still incomplete frames are dropped as ``stale`` (counted). At most
                ``max_pending`` frames are held.
    ``ordered`` (offline) every complete frame is released in stamp order; a frame waits
                for older incomplete ones until they complete or expire.

Drop reasons. Frames: ``incomplete`` (a part missing after ``hold_ns``), ``stale``
(superseded under ``latest``), ``overflow`` (``max_pending`` exceeded, oldest first),
``reset`` (held when :meth:`FrameSynchronizer.reset` was called).
Messages: ``orphan`` (a label whose image never came within ``hold_ns``), ``duplicate``
(a part already held or published for that stamp), ``late`` (a stamp already dropped or
older than the last output), ``overflow`` (too many orphans of one key).

Thread safety: ``add*`` may be called from any number of callback threads while one worker
calls ``pop``/``wait``; all state is guarded by one lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sim2real_gan.pipeline.stats import Clock, PipelineStats, StatsSnapshot, monotonic_clock

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
    """

    label_keys: tuple[str, ...] = ()
    camera_info: bool = True
    slop_ns: int = 0
    hold_ns: int = 200_000_000
    max_pending: int = 8
    policy: str = "latest"

    def __post_init__(self) -> None:
        keys = tuple(self.label_keys)
        object.__setattr__(self, "label_keys", keys)
        if len(set(keys)) != len(keys):
            raise ValueError(f"label_keys must be unique, got {list(keys)}")
        reserved = {IMAGE_KEY, CAMERA_INFO_KEY} & set(keys)
        if reserved:
            raise ValueError(f"label_keys may not use the reserved names {sorted(reserved)}")
        if self.slop_ns < 0 or self.hold_ns < 0:
            raise ValueError(f"slop_ns and hold_ns must be >= 0, got {self.slop_ns}, "
                             f"{self.hold_ns}")
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


@dataclass
class _Pending:
    stamp_ns: int
    first_ns: int
    arrival_ns: int
    image: Any
    parts: dict[str, tuple[int, Any]]


class FrameSynchronizer:
    """See the module docstring. ``stats`` is shared with the consumer for latency."""

    def __init__(self, config: SyncConfig, clock: Clock = monotonic_clock,
                 stats: PipelineStats | None = None):
        self.config = config
        self.clock = clock
        self.stats = stats or PipelineStats(clock)
        self._lock = threading.Lock()
        self._ready_cv = threading.Condition(self._lock)
        self._frames: dict[int, _Pending] = {}
        self._orphans: dict[str, dict[int, tuple[Any, int]]] = {k: {} for k in config.part_keys}
        self._ready: list[Frame] = []
        self._closed: OrderedDict[int, bool] = OrderedDict()  # stamp -> was published
        self._last_out: int | None = None

    # ---- input ---------------------------------------------------------------------------
    def add_image(self, stamp_ns: int, msg: Any) -> None:
        self.add(IMAGE_KEY, stamp_ns, msg)

    def add_label(self, key: str, stamp_ns: int, msg: Any) -> None:
        self.add(key, stamp_ns, msg)

    def add_camera_info(self, stamp_ns: int, msg: Any) -> None:
        self.add(CAMERA_INFO_KEY, stamp_ns, msg)

    def add(self, key: str, stamp_ns: int, msg: Any) -> None:
        """Add one message of part ``key`` (``"image"``, ``"camera_info"`` or a label key)."""
        if key != IMAGE_KEY and key not in self._orphans:
            raise KeyError(f"unknown part {key!r}; expected 'image' or one of "
                           f"{list(self.config.part_keys)}")
        stamp = int(stamp_ns)
        with self._lock:
            now = self.clock()
            self.stats.count_received(key)
            self._expire_locked(now)
            if stamp in self._closed:
                self.stats.drop_message("duplicate" if self._closed[stamp] else "late")
            elif key == IMAGE_KEY:
                self._add_image_locked(stamp, msg, now)
            else:
                self._add_part_locked(key, stamp, msg, now)

    def _add_image_locked(self, stamp: int, msg: Any, now: int) -> None:
        if stamp in self._frames or any(f.stamp_ns == stamp for f in self._ready):
            self.stats.drop_message("duplicate")
            return
        if self._last_out is not None and stamp <= self._last_out:
            self.stats.drop_message("late")
            return
        pending = _Pending(stamp, now, now, msg, {})
        for key, orphans in self._orphans.items():
            match = _nearest(orphans, stamp, self.config.slop_ns)
            if match is not None:
                part_msg, arrived = orphans.pop(match)
                pending.parts[key] = (match, part_msg)
                pending.first_ns = min(pending.first_ns, arrived)
        self._frames[stamp] = pending
        self._enforce_bound_locked()
        self._complete_locked(pending)

    def _add_part_locked(self, key: str, stamp: int, msg: Any, now: int) -> None:
        slop = self.config.slop_ns
        lacking = {s: p for s, p in self._frames.items() if key not in p.parts}
        target = _nearest(lacking, stamp, slop)
        if target is not None:
            pending = self._frames[target]
            pending.parts[key] = (stamp, msg)
            self._complete_locked(pending)
            return
        held = self._frames.get(stamp)
        orphans = self._orphans[key]
        if (held is not None and held.parts[key][0] == stamp) or stamp in orphans or any(
            f.stamp_ns == stamp for f in self._ready
        ):
            self.stats.drop_message("duplicate")
        elif self._last_out is not None and stamp + slop <= self._last_out:
            self.stats.drop_message("late")
        else:
            orphans[stamp] = (msg, now)
            if len(orphans) > self.config.max_pending:
                del orphans[min(orphans)]
                self.stats.drop_message("overflow")

    def _complete_locked(self, pending: _Pending) -> None:
        if any(k not in pending.parts for k in self.config.part_keys):
            return
        stamp = pending.stamp_ns
        del self._frames[stamp]
        parts = pending.parts
        frame = Frame(
            stamp_ns=stamp,
            image=pending.image,
            labels={k: parts[k][1] for k in self.config.label_keys},
            camera_info=parts[CAMERA_INFO_KEY][1] if self.config.camera_info else None,
            arrival_ns=pending.arrival_ns,
            part_stamps={IMAGE_KEY: stamp, **{k: s for k, (s, _) in parts.items()}},
        )
        if self.config.policy == "ordered":
            self._ready.append(frame)
            self._ready.sort(key=lambda f: f.stamp_ns)
        elif self._ready and self._ready[-1].stamp_ns > stamp:
            self._drop_frame_locked(stamp, "stale")
            return
        else:
            for old in self._ready:
                self._drop_frame_locked(old.stamp_ns, "stale")
            self._ready = [frame]
            for s in [s for s in self._frames if s < stamp]:  # can never be published now
                del self._frames[s]
                self._drop_frame_locked(s, "stale")
        self._ready_cv.notify_all()

    # ---- bookkeeping ---------------------------------------------------------------------
    def _drop_frame_locked(self, stamp: int, reason: str) -> None:
        self.stats.drop_frame(reason)
        self._close_locked(stamp, published=False)

    def _close_locked(self, stamp: int, published: bool) -> None:
        self._closed[stamp] = published
        while len(self._closed) > 4 * self.config.max_pending + 64:
            self._closed.popitem(last=False)

    def _enforce_bound_locked(self) -> None:
        while len(self._frames) + len(self._ready) > self.config.max_pending:
            oldest_ready = self._ready[0].stamp_ns if self._ready else None
            oldest_frame = min(self._frames) if self._frames else None
            if oldest_frame is None or (oldest_ready is not None and oldest_ready < oldest_frame):
                self._ready.pop(0)
                self._drop_frame_locked(oldest_ready, "overflow")
            else:
                del self._frames[oldest_frame]
                self._drop_frame_locked(oldest_frame, "overflow")

    def _expire_locked(self, now: int, everything: bool = False) -> None:
        hold = self.config.hold_ns
        for stamp, pending in list(self._frames.items()):
            if everything or now - pending.first_ns > hold:
                del self._frames[stamp]
                for key in self.config.part_keys:
                    if key not in pending.parts:
                        self.stats.count_missing(key)
                self._drop_frame_locked(stamp, "incomplete")
        for orphans in self._orphans.values():
            for stamp, (_, arrived) in list(orphans.items()):
                if everything or now - arrived > hold:
                    del orphans[stamp]
                    self.stats.count_missing(IMAGE_KEY)
                    self.stats.drop_message("orphan")

    def reset(self) -> int:
        """Forget every held frame and stamp (e.g. simulation time jumped back); keeps the
        counters. Held frames are counted as ``reset`` drops. Returns how many were held."""
        with self._lock:
            held = len(self._frames) + len(self._ready)
            if held:
                self.stats.drop_frame("reset", held)
            self._frames.clear()
            self._ready.clear()
            for orphans in self._orphans.values():
                orphans.clear()
            self._closed.clear()
            self._last_out = None
            return held

    def expire(self) -> None:
        """Drop what has waited longer than ``hold_ns`` (call from a timer when idle)."""
        with self._lock:
            self._expire_locked(self.clock())

    # ---- output --------------------------------------------------------------------------
    def _pop_locked(self) -> Frame | None:
        if not self._ready:
            return None
        if self.config.policy == "latest":
            frame = self._ready.pop()
        else:
            frame = self._ready[0]
            if self._frames and min(self._frames) < frame.stamp_ns:
                return None  # an older frame may still complete
            self._ready.pop(0)
        self._last_out = frame.stamp_ns
        self._close_locked(frame.stamp_ns, published=True)
        return frame

    def pop(self) -> Frame | None:
        """The next frame under the policy, or None. Never blocks."""
        with self._lock:
            self._expire_locked(self.clock())
            return self._pop_locked()

    def wait(self, timeout_s: float | None = None) -> Frame | None:
        """Block (real time, up to ``timeout_s``) until a frame can be popped; None on timeout."""
        with self._ready_cv:
            frame = self._pop_locked()
            if frame is None:
                self._ready_cv.wait_for(lambda: bool(self._ready), timeout_s)
                frame = self._pop_locked()
            return frame

    def drain(self) -> list[Frame]:
        """Every frame that can be popped now (stamp order)."""
        out: list[Frame] = []
        while (frame := self.pop()) is not None:
            out.append(frame)
        return out

    def finish(self) -> list[Frame]:
        """End of input: drop everything incomplete (counted) and return the ready frames."""
        with self._lock:
            self._expire_locked(self.clock(), everything=True)
        return self.drain()

    def mark_published(self, frame: Frame, now_ns: int | None = None) -> None:
        """Record that ``frame`` left the pipeline (for rate and latency)."""
        self.stats.record_published(frame.arrival_ns, now_ns)

    @property
    def pending_count(self) -> int:
        """Frames and orphan messages currently held."""
        with self._lock:
            return (len(self._frames) + len(self._ready)
                    + sum(len(o) for o in self._orphans.values()))

    def snapshot(self) -> StatsSnapshot:
        return self.stats.snapshot(pending=self.pending_count)


def _nearest(table: dict[int, Any], stamp: int, slop: int) -> int | None:
    """Key of ``table`` nearest to ``stamp`` within ``slop`` (ties: the earlier), or None."""
    if stamp in table:
        return stamp
    if slop == 0 or not table:
        return None
    best = min(table, key=lambda s: (abs(s - stamp), s))
    return best if abs(best - stamp) <= slop else None
