"""Clocks and pipeline statistics (rate, latency percentiles, drops by reason).

All times are integer nanoseconds from an injected clock, so tests and offline tools can
drive time explicitly instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

Clock = Callable[[], int]
"""A zero-argument callable returning the current time in ns (e.g. ``time.monotonic_ns``)."""


class ManualClock:
    """A clock that only moves when told to (tests, and offline replay of bag log time)."""

    def __init__(self, start_ns: int = 0):
        self.now_ns = int(start_ns)

    def __call__(self) -> int:
        return self.now_ns

    def set(self, now_ns: int) -> None:
        """Move to ``now_ns``; time never goes backwards."""
        self.now_ns = max(self.now_ns, int(now_ns))

    def advance(self, delta_ns: int) -> None:
        if delta_ns < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {delta_ns} ns)")
        self.now_ns += int(delta_ns)


def monotonic_clock() -> int:
    """Default wall clock: ``time.monotonic_ns()``."""
    return time.monotonic_ns()


@dataclass
class StatsSnapshot:
    """A consistent copy of the counters at one instant (for diagnostics and logs)."""

    published: int
    received: dict[str, int]
    frame_drops: dict[str, int]
    message_drops: dict[str, int]
    missing: dict[str, int]
    rate_hz: float
    latency_p50_ms: float
    latency_p99_ms: float
    pending: int = 0
    extra: dict[str, float] = field(default_factory=dict)
    message_drops_by_key: dict[str, dict[str, int]] = field(default_factory=dict)
    episodes: int = 0
    resets: int = 0
    reordered: int = 0
    peer_only_frames: int = 0  # frames seen only through a peer view's image (stereo)

    @property
    def frames_dropped(self) -> int:
        return sum(self.frame_drops.values())

    def frame_drops_text(self, names: Mapping[str, str] | None = None) -> str:
        """``incomplete 2 (missing /sim/camera/depth 2), decode 1`` or ``none``: an
        incomplete frame counts each part it lacked (``names`` renames keys)."""
        names = names or {}
        missing = ", ".join(f"{k} {n}" for k, n in sorted(
            (names.get(k, k), n) for k, n in self.missing.items()))
        parts = []
        for reason, n in sorted(self.frame_drops.items()):
            extra = f" (missing {missing})" if reason == "incomplete" and missing else ""
            parts.append(f"{reason} {n}{extra}")
        return ", ".join(parts) or "none"

    def message_drops_text(self, names: Mapping[str, str] | None = None) -> str:
        """``late 3 (/sim/camera/depth 2, image 1)`` or ``none``: reasons with their keys
        (``names`` renames keys, e.g. ``{"image": "/sim/camera/image_raw"}``)."""
        names = names or {}
        parts = []
        for reason, n in sorted(self.message_drops.items()):
            keys = sorted((names.get(k, k), r[reason])
                          for k, r in self.message_drops_by_key.items() if r.get(reason))
            detail = ", ".join(f"{k} {m}" for k, m in keys)
            parts.append(f"{reason} {n}" + (f" ({detail})" if detail else ""))
        return ", ".join(parts) or "none"

    def line(self, names: Mapping[str, str] | None = None) -> str:
        """One log line, e.g. ``published 120 (29.8 Hz) latency p50 12.1 ms ...``
        (``names`` renames part keys, e.g. ``{"/sim/camera/depth": "depth"}``)."""
        return (
            f"published {self.published} ({self.rate_hz:.1f} Hz), latency p50 "
            f"{self.latency_p50_ms:.1f} ms p99 {self.latency_p99_ms:.1f} ms, frames dropped: "
            f"{self.frame_drops_text(names)}; messages dropped: "
            f"{self.message_drops_text(names)}; "
            f"episodes {self.episodes} (resets {self.resets}), reordered {self.reordered}; "
            f"pending {self.pending}"
        )


class PipelineStats:
    """Thread-safe counters plus a sliding window of publish times and latencies.

    Args:
        clock: time source in ns.
        window: number of recent frames kept for rate and latency percentiles.
    """

    def __init__(self, clock: Clock = monotonic_clock, window: int = 1000):
        self._clock = clock
        self._lock = threading.Lock()
        self._published_at: deque[int] = deque(maxlen=window)
        self._latency: deque[int] = deque(maxlen=window)
        self.published = 0
        self.received: Counter[str] = Counter()
        self.frame_drops: Counter[str] = Counter()
        self.message_drops: Counter[str] = Counter()
        self.missing: Counter[str] = Counter()
        self.message_drops_by_key: dict[str, Counter[str]] = {}
        self.episodes = 0
        self.resets = 0
        self.reordered = 0
        self.peer_only_frames = 0

    def count_received(self, key: str) -> None:
        with self._lock:
            self.received[key] += 1

    def drop_frame(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self.frame_drops[reason] += n

    def drop_message(self, reason: str, n: int = 1, key: str | None = None) -> None:
        """Count ``n`` dropped messages; ``key`` names their part (topic, ``image``...)."""
        with self._lock:
            self.message_drops[reason] += n
            if key is not None:
                self.message_drops_by_key.setdefault(key, Counter())[reason] += n

    def count_stamp(self, kind: str) -> None:
        """Record what an image stamp meant (``episodes.STAMP_KINDS``)."""
        with self._lock:
            if kind in ("first", "reset", "gap"):
                self.episodes += 1
            self.resets += kind == "reset"
            self.reordered += kind == "reorder"

    def count_peer_only_frame(self) -> None:
        """A frame whose peer view (stereo: right eye) came but whose image never did."""
        with self._lock:
            self.peer_only_frames += 1

    def count_missing(self, key: str) -> None:
        with self._lock:
            self.missing[key] += 1

    def record_published(self, arrival_ns: int, now_ns: int | None = None) -> None:
        """One frame left the pipeline; latency = now - arrival of its image."""
        now = self._clock() if now_ns is None else int(now_ns)
        with self._lock:
            self.published += 1
            self._published_at.append(now)
            self._latency.append(max(0, now - int(arrival_ns)))

    def snapshot(self, pending: int = 0) -> StatsSnapshot:
        with self._lock:
            times = list(self._published_at)
            lat = np.asarray(self._latency, dtype=np.float64) / 1e6
            if len(times) >= 2 and times[-1] > times[0]:
                rate = (len(times) - 1) * 1e9 / (times[-1] - times[0])
            else:
                rate = 0.0
            return StatsSnapshot(
                published=self.published,
                received=dict(self.received),
                frame_drops=dict(self.frame_drops),
                message_drops=dict(self.message_drops),
                missing=dict(self.missing),
                rate_hz=float(rate),
                latency_p50_ms=float(np.percentile(lat, 50)) if lat.size else 0.0,
                latency_p99_ms=float(np.percentile(lat, 99)) if lat.size else 0.0,
                pending=pending,
                message_drops_by_key={k: dict(v) for k, v in self.message_drops_by_key.items()},
                episodes=self.episodes, resets=self.resets, reordered=self.reordered,
                peer_only_frames=self.peer_only_frames,
            )
