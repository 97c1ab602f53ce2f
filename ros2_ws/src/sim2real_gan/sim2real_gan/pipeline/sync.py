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
                for older incomplete ones until they complete or expire, and a complete
                frame is held until the image stream has moved ``reorder_ns`` past it, so
                that an out-of-order image within that window is still released in order.

Stamps, episodes and resets are decided here, once, for the node and ``translate-bag``
(:class:`~sim2real_gan.pipeline.episodes.StampTracker`): an image at most ``reorder_ns``
behind the newest one is an out-of-order arrival; one further back is a *reset* (a simulator
restarted): a new episode starts with it, incomplete frames of the old episode are dropped
as ``reset``, complete ones are still released (before the new episode's), and the frames
after it are kept. Labels and camera_info that arrive *before* the reset image with stamps
far behind the stream are held (not dropped as late) so that they pair with it. A forward
jump larger than ``episode_gap_ns`` also starts an episode. Every :class:`Frame` carries its
``episode``; :meth:`FrameSynchronizer.reset` starts one by hand. Output stamps strictly
increase within an episode.

Drop reasons. Frames: ``incomplete`` (a part missing after ``hold_ns``), ``stale``
(superseded under ``latest``), ``overflow`` (``max_pending`` exceeded, oldest first),
``reset`` (incomplete when a reset started a new episode). Messages: ``orphan`` (a label
whose image never came within ``hold_ns``), ``duplicate`` (a part already held or published
for that stamp), ``late`` (a stamp already dropped or older than the last output, or a
straggler of the episode before a reset), ``overflow`` (too many orphans of one key),
``reset`` (a held label of the old episode when a reset came). Message drops are also
counted per key (``StatsSnapshot.message_drops_by_key``).

Thread safety: ``add*`` may be called from any number of callback threads while one worker
calls ``pop``/``wait``; all state is guarded by one lock.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from sim2real_gan.pipeline.episodes import StampTracker
from sim2real_gan.pipeline.stats import Clock, PipelineStats, StatsSnapshot, monotonic_clock
from sim2real_gan.pipeline.sync_types import (
    CAMERA_INFO_KEY,
    IMAGE_KEY,
    POLICIES,
    Frame,
    SyncConfig,
    _Orphan,
    _Pending,
)

__all__ = ["CAMERA_INFO_KEY", "IMAGE_KEY", "POLICIES", "Frame", "FrameSynchronizer",
           "SyncConfig"]

log = logging.getLogger(__name__)


class FrameSynchronizer:
    """See the module docstring. ``stats`` is shared with the consumer for latency."""

    def __init__(self, config: SyncConfig, clock: Clock = monotonic_clock,
                 stats: PipelineStats | None = None):
        self.config = config
        self.clock = clock
        self.stats = stats or PipelineStats(clock)
        self._lock = threading.Lock()
        self._ready_cv = threading.Condition(self._lock)
        self._stamps = StampTracker(config.reorder_ns, config.episode_gap_ns)
        self._frames: dict[int, _Pending] = {}
        self._orphans: dict[str, dict[int, _Orphan]] = {k: {} for k in config.part_keys}
        self._ready: list[Frame] = []
        self._closed: OrderedDict[int, bool] = OrderedDict()  # stamp -> was published
        self._imageless: OrderedDict[int, None] = OrderedDict()  # image counted as missing
        self._last_out: tuple[int, int] | None = None  # (episode, stamp)
        self._ended_episode = 0  # episodes up to this one ended with a reset
        self._shadow: tuple[int, int] | None = None  # old episode's (last stamp, until clock)
        self._flushing = False

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
            if key == IMAGE_KEY:
                self._add_image_locked(stamp, msg, now)
            else:
                self._add_part_locked(key, stamp, msg, now)
            self._ready_cv.notify_all()

    def _stream_last_out(self) -> int | None:
        """Stamp of the last output if it belongs to the current stream (no reset since)."""
        if self._last_out is None or self._last_out[0] <= self._ended_episode:
            return None
        return self._last_out[1]

    def _image_rejection(self, stamp: int) -> str | None:
        """``duplicate`` / ``late`` for an image that cannot start a frame, else None."""
        if stamp in self._closed:
            return "duplicate" if self._closed[stamp] else "late"
        episode = self._stamps.episode
        if stamp in self._frames or any(f.order == (episode, stamp) for f in self._ready):
            return "duplicate"
        last = self._stream_last_out()
        return "late" if last is not None and stamp <= last else None

    def _add_image_locked(self, stamp: int, msg: Any, now: int) -> None:
        if self._stamps.classify(stamp) == "reset":
            self._start_episode_locked(now)
            log.warning("image stamp went back %.3f s (%d -> %d ns): simulation reset, new "
                        "episode", (self._stamps.newest - stamp) / 1e9, self._stamps.newest,
                        stamp)
        else:
            rejection = self._image_rejection(stamp)
            if rejection:
                self.stats.drop_message(rejection, key=IMAGE_KEY)
                return
        kind = self._stamps.observe(stamp)
        self.stats.count_stamp(kind)
        pending = _Pending(stamp, self._stamps.episode, now, now, msg, {})
        for key, orphans in self._orphans.items():
            match = _nearest(orphans, stamp, self.config.slop_ns)
            if match is not None:
                orphan = orphans.pop(match)
                pending.parts[key] = (match, orphan.msg)
                pending.first_ns = min(pending.first_ns, orphan.arrived_ns)
        self._frames[stamp] = pending
        self._enforce_bound_locked()
        self._complete_locked(pending, now)

    def _add_part_locked(self, key: str, stamp: int, msg: Any, now: int) -> None:
        slop = self.config.slop_ns
        lacking = {s: p for s, p in self._frames.items() if key not in p.parts}
        target = _nearest(lacking, stamp, slop)
        if target is not None:
            pending = self._frames[target]
            pending.parts[key] = (stamp, msg)
            self._complete_locked(pending, now)
            return
        held = self._frames.get(stamp)
        orphans = self._orphans[key]
        episode = self._stamps.episode
        last = self._stream_last_out()
        if (held is not None and held.parts[key][0] == stamp) or stamp in orphans or any(
                f.order == (episode, stamp) for f in self._ready):
            self.stats.drop_message("duplicate", key=key)
        elif self._stamps.behind(stamp):  # maybe the next episode's, before its image
            self._hold_orphan_locked(key, stamp, _Orphan(msg, now, behind=True))
        elif stamp in self._closed:
            self.stats.drop_message("duplicate" if self._closed[stamp] else "late", key=key)
        elif (last is not None and stamp + slop <= last) or self._is_straggler(stamp, now):
            self.stats.drop_message("late", key=key)
        else:
            self._hold_orphan_locked(key, stamp, _Orphan(msg, now, behind=False))

    def _is_straggler(self, stamp: int, now: int) -> bool:
        """A part of the episode before a reset, arriving after it: its stamp lies ahead of
        the new stream (more than the reorder window) but not after the old episode's end."""
        if self._shadow is None or self._stamps.newest is None:
            return False
        last_old, until = self._shadow
        ahead = stamp - self._stamps.newest > self.config.reorder_ns
        return now <= until and ahead and stamp <= last_old

    def _hold_orphan_locked(self, key: str, stamp: int, orphan: _Orphan) -> None:
        orphans = self._orphans[key]
        orphans[stamp] = orphan
        if len(orphans) > self.config.max_pending:  # the longest-waiting one goes
            oldest = next(iter(orphans))
            dropped = orphans.pop(oldest)
            self.stats.drop_message("late" if dropped.behind else "overflow", key=key)

    def _complete_locked(self, pending: _Pending, now: int) -> None:
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
            episode=pending.episode,
            completed_ns=now,
        )
        if self.config.policy == "ordered":
            self._ready.append(frame)
            self._ready.sort(key=lambda f: f.order)
        elif self._ready and self._ready[-1].order > frame.order:
            self._drop_frame_locked(frame.episode, stamp, "stale")
            return
        else:
            for old in self._ready:
                self._drop_frame_locked(old.episode, old.stamp_ns, "stale")
            self._ready = [frame]
            for s in [s for s, p in self._frames.items() if (p.episode, s) < frame.order]:
                self._drop_frame_locked(self._frames.pop(s).episode, s, "stale")

    # ---- episodes ------------------------------------------------------------------------
    def _start_episode_locked(self, now: int) -> int:
        """End the current episode: incomplete frames are dropped (``reset``), complete ones
        stay releasable, labels far behind the old stream are kept for the new one. Returns
        the number of frames dropped."""
        old_newest = self._stamps.newest
        dropped = len(self._frames)
        for stamp, pending in list(self._frames.items()):
            self._drop_frame_locked(pending.episode, stamp, "reset")
        self._frames.clear()
        for key, orphans in self._orphans.items():
            for stamp in [s for s, o in orphans.items() if not o.behind]:
                del orphans[stamp]
                self.stats.drop_message("reset", key=key)
        self._closed.clear()
        self._imageless.clear()
        self._ended_episode = self._stamps.episode
        if old_newest is not None:
            self._shadow = (old_newest + self.config.slop_ns, now + self.config.hold_ns)
        return dropped

    def drop_stamp(self, stamp_ns: int, reason: str) -> None:
        """A part with this stamp could not be read (a fault): drop its frame now with
        ``reason`` (counted once), with whatever parts of it are held; parts that come
        later are ``late``."""
        stamp = int(stamp_ns)
        with self._lock:
            self._frames.pop(stamp, None)
            for orphans in self._orphans.values():
                orphans.pop(stamp, None)
            if stamp in self._closed:
                return  # already counted (published or dropped)
            self.stats.drop_frame(reason)
            self._close_locked(stamp, published=False)

    def reset(self) -> int:
        """Start a new episode now (e.g. ROS time jumped back): forget held stamps, drop
        incomplete frames (counted as ``reset``), keep counters; frames already complete
        are still released. The next image starts episode + 1. Returns the frames dropped."""
        with self._lock:
            dropped = self._start_episode_locked(self.clock())
            self._stamps.restart()
            self._ready_cv.notify_all()
            return dropped

    @property
    def episode(self) -> int:
        """Episode of the newest image (0 before the first)."""
        with self._lock:
            return self._stamps.episode

    # ---- bookkeeping ---------------------------------------------------------------------
    def _drop_frame_locked(self, episode: int, stamp: int, reason: str) -> None:
        self.stats.drop_frame(reason)
        if episode > self._ended_episode:
            self._close_locked(stamp, published=False)

    def _close_locked(self, stamp: int, published: bool) -> None:
        self._closed[stamp] = published
        while len(self._closed) > 4 * self.config.max_pending + 64:
            self._closed.popitem(last=False)

    def _count_missing_image_locked(self, stamp: int) -> None:
        """``missing[image]`` counts a stamp whose image never came once, however many of
        its parts waited for it (stereo: both eyes' labels and the right image)."""
        if stamp in self._imageless:
            return
        self._imageless[stamp] = None
        while len(self._imageless) > 4 * self.config.max_pending + 64:
            self._imageless.popitem(last=False)
        self.stats.count_missing(IMAGE_KEY)

    def _enforce_bound_locked(self) -> None:
        while len(self._frames) + len(self._ready) > self.config.max_pending:
            oldest_ready = self._ready[0] if self._ready else None
            oldest = min(self._frames.values(), key=lambda p: (p.episode, p.stamp_ns),
                         default=None)
            if oldest is None or (oldest_ready is not None
                                  and oldest_ready.order < (oldest.episode, oldest.stamp_ns)):
                self._ready.pop(0)
                self._drop_frame_locked(oldest_ready.episode, oldest_ready.stamp_ns, "overflow")
            else:
                del self._frames[oldest.stamp_ns]
                self._drop_frame_locked(oldest.episode, oldest.stamp_ns, "overflow")

    def _expire_locked(self, now: int, everything: bool = False) -> None:
        hold = self.config.hold_ns
        for stamp, pending in list(self._frames.items()):
            if everything or now - pending.first_ns > hold:
                del self._frames[stamp]
                for key in self.config.part_keys:
                    if key not in pending.parts:
                        self.stats.count_missing(key)
                self._drop_frame_locked(pending.episode, stamp, "incomplete")
        for key, orphans in self._orphans.items():
            for stamp, orphan in list(orphans.items()):
                if everything or now - orphan.arrived_ns > hold:
                    del orphans[stamp]
                    if not orphan.behind:
                        self._count_missing_image_locked(stamp)
                        if key in self.config.peer_image_keys:  # a view without its image
                            self.stats.count_peer_only_frame()
                            self._drop_frame_locked(self._stamps.episode, stamp, "incomplete")
                    self.stats.drop_message("late" if orphan.behind else "orphan", key=key)
        if self._shadow is not None and now > self._shadow[1]:
            self._shadow = None

    def expire(self) -> None:
        """Drop what has waited longer than ``hold_ns`` (call from a timer when idle)."""
        with self._lock:
            self._expire_locked(self.clock())

    # ---- output --------------------------------------------------------------------------
    def _releasable(self, frame: Frame, now: int) -> bool:
        """Ordered policy: may ``frame`` leave now, or may an older image still come?"""
        cfg = self.config
        newest = self._stamps.newest
        return (self._flushing or frame.episode <= self._ended_episode
                or frame.episode < self._stamps.episode
                or (newest is not None and newest - frame.stamp_ns >= cfg.reorder_ns)
                or now - frame.completed_ns > cfg.hold_ns
                or len(self._frames) + len(self._ready) >= cfg.max_pending)

    def _next_locked(self, now: int) -> Frame | None:
        """The frame :meth:`pop` would return now (not removed)."""
        if not self._ready:
            return None
        if self.config.policy == "latest":
            return self._ready[-1]
        frame = self._ready[0]
        if not self._releasable(frame, now):
            return None
        if any((p.episode, s) < frame.order for s, p in self._frames.items()):
            return None  # an older frame may still complete
        return frame

    def _pop_locked(self, now: int) -> Frame | None:
        frame = self._next_locked(now)
        if frame is None:
            return None
        self._ready.remove(frame)
        self._last_out = frame.order
        if frame.episode > self._ended_episode:
            self._close_locked(frame.stamp_ns, published=True)
        return frame

    def pop(self) -> Frame | None:
        """The next frame under the policy, or None. Never blocks."""
        with self._lock:
            now = self.clock()
            self._expire_locked(now)
            return self._pop_locked(now)

    def wait(self, timeout_s: float | None = None) -> Frame | None:
        """Block (real time, up to ``timeout_s``) until a frame can be popped; None on timeout."""
        with self._ready_cv:
            self._ready_cv.wait_for(lambda: self._next_locked(self.clock()) is not None,
                                    timeout_s)
            return self._pop_locked(self.clock())

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
            self._flushing = True
        try:
            return self.drain()
        finally:
            with self._lock:
                self._flushing = False

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
