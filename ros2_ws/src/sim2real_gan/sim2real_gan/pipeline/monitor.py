"""Per-input receive monitor: rates, counts, and inputs that went silent (no ROS).

The node notes every message it receives per input (image, camera_info, each label topic);
:class:`InputMonitor` turns that into receive rates over a sliding window and decides when
an input has gone *silent*: nothing from it for longer than
``max(silent_floor_s, silent_periods x image period)`` while another input still arrives
(so a stopped camera, where everything is quiet, is not an input fault). The image period
is the median gap between the last image arrivals. :meth:`InputMonitor.check` returns the
transitions since the last call (``silent``, ``resumed``) once each, for one log line each.

Time comes from an injected clock in integer ns (``pipeline.stats.ManualClock`` in tests).

Example:
    >>> from sim2real_gan.pipeline.stats import ManualClock
    >>> clock = ManualClock()
    >>> mon = InputMonitor({"image": "image_raw", "/sim/camera/depth": "depth"}, clock)
    >>> for _ in range(40):
    ...     clock.advance(33_000_000); mon.note("image")
    >>> [(e.kind, e.name) for e in mon.check()]
    [('silent', 'depth')]
"""

from __future__ import annotations

import statistics
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from sim2real_gan.pipeline.stats import Clock, monotonic_clock
from sim2real_gan.pipeline.sync_types import IMAGE_KEY

NS = 1_000_000_000


@dataclass(frozen=True)
class MonitorConfig:
    """``window_s``: rate window; an input is silent after ``max(silent_floor_s,
    silent_periods x image period)`` without a message while another input arrives."""

    window_s: float = 5.0
    silent_floor_s: float = 1.0
    silent_periods: float = 10.0

    def __post_init__(self) -> None:
        for name in ("window_s", "silent_floor_s", "silent_periods"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"MonitorConfig.{name}: expected a positive number, got "
                                 f"{value!r}")


@dataclass(frozen=True)
class InputState:
    """One input at one instant: ``silent_s`` = time since its last message (since the
    monitor started if none came yet); ``silent`` = judged silent (see the module doc)."""

    key: str
    name: str
    received: int
    rate_hz: float
    silent_s: float
    silent: bool

    def text(self) -> str:
        """``depth 29.8 Hz`` or ``depth 0.0 Hz SILENT 12.3 s``."""
        return f"{self.name} {self.rate_hz:.1f} Hz" + (
            f" SILENT {self.silent_s:.1f} s" if self.silent else "")


@dataclass(frozen=True)
class InputEvent:
    """A transition: ``silent`` (with the seconds since its last message) or ``resumed``
    (with how long it had been silent)."""

    key: str
    name: str
    kind: str
    seconds: float
    message: str


class _Track:
    def __init__(self, start_ns: int):
        self.count = 0
        self.last_ns: int | None = None
        self.start_ns = start_ns
        self.recent: deque[int] = deque(maxlen=4096)  # arrivals within the rate window
        self.gaps: deque[int] = deque(maxlen=32)      # last inter-arrival gaps (image period)
        self.silent_since: int | None = None          # last message time when judged silent

    def since_last(self, now: int) -> int:
        return now - (self.start_ns if self.last_ns is None else self.last_ns)


class InputMonitor:
    """See the module docstring. ``names``: input key -> name used in lines and
    diagnostics (the image key is :data:`IMAGE_KEY`); thread-safe."""

    def __init__(self, names: Mapping[str, str], clock: Clock = monotonic_clock,
                 config: MonitorConfig | None = None):
        if not names:
            raise ValueError("InputMonitor: expected at least one input")
        self.names = dict(names)
        self.clock = clock
        self.config = config or MonitorConfig()
        self._lock = threading.Lock()
        now = clock()
        self._tracks = {key: _Track(now) for key in self.names}

    def note(self, key: str) -> None:
        """One message of input ``key`` arrived now."""
        with self._lock:
            track = self._tracks.get(key)
            if track is None:
                raise KeyError(f"unknown input {key!r}; expected one of {list(self.names)}")
            now = self.clock()
            if track.last_ns is not None:
                track.gaps.append(now - track.last_ns)
            track.count += 1
            track.last_ns = now
            track.recent.append(now)

    def threshold_ns(self) -> int:
        """Silence threshold now: ``max(floor, periods x median image gap)``."""
        with self._lock:
            return self._threshold_locked()

    def _threshold_locked(self) -> int:
        cfg = self.config
        image = self._tracks.get(IMAGE_KEY)
        period = statistics.median(image.gaps) if image is not None and image.gaps else 0
        return int(max(cfg.silent_floor_s * NS, cfg.silent_periods * period))

    def _states_locked(self, now: int) -> list[InputState]:
        window = int(self.config.window_s * NS)
        limit = self._threshold_locked()
        alive = {k for k, t in self._tracks.items()
                 if t.last_ns is not None and now - t.last_ns <= limit}
        states = []
        for key, track in self._tracks.items():
            while track.recent and now - track.recent[0] > window:
                track.recent.popleft()
            span = min(window, max(now - track.start_ns, NS))  # a young monitor: >= 1 s
            rate = len(track.recent) * NS / span
            quiet = track.since_last(now)
            silent = quiet > limit and bool(alive - {key})
            states.append(InputState(key, self.names[key], track.count, rate, quiet / NS,
                                     silent))
        return states

    def snapshot(self) -> list[InputState]:
        """Every input's state now, in the order of ``names``."""
        with self._lock:
            return self._states_locked(self.clock())

    def check(self) -> list[InputEvent]:
        """Transitions since the last call: an input that went silent, or one that resumed
        (call it periodically, e.g. twice a second)."""
        with self._lock:
            now = self.clock()
            states = self._states_locked(now)
            limit = self._threshold_locked()
            return [e for s in states if (e := self._transition_locked(s, states, now, limit))]

    def _transition_locked(self, state: InputState, states: list[InputState], now: int,
                           limit: int) -> InputEvent | None:
        track = self._tracks[state.key]
        if state.silent and track.silent_since is None:
            track.silent_since = now - track.since_last(now)
            return InputEvent(state.key, state.name, "silent", state.silent_s,
                              _silent_text(state, states, track.last_ns is None, limit))
        resumed = track.last_ns is not None and track.silent_since is not None \
            and track.last_ns > track.silent_since
        if resumed:
            quiet = (track.last_ns - track.silent_since) / NS
            track.silent_since = None
            return InputEvent(state.key, state.name, "resumed", quiet,
                              f"input {state.name} resumed after {quiet:.1f} s without a "
                              f"message ({state.received} received)")
        return None


def _silent_text(state: InputState, states: list[InputState], never: bool, limit: int) -> str:
    others = ", ".join(s.text() for s in states if s.key != state.key and not s.silent)
    what = "no message yet" if never else f"no message for {state.silent_s:.1f} s"
    return (f"input {state.name} went silent: {what} (limit {limit / NS:.1f} s, "
            f"{state.received} received) while {others} still arrive; every frame now "
            f"waits for it and is dropped as incomplete (check its publisher and the qos "
            f"parameter: docs/ros.md)")


def inputs_line(states: list[InputState]) -> str:
    """``inputs: image_raw 29.8 Hz, depth 0.0 Hz SILENT 3.1 s``."""
    return "inputs: " + ", ".join(s.text() for s in states)


def diagnostic_values(states: list[InputState]) -> list[tuple[str, str]]:
    """``(key, value)`` pairs for ``/diagnostics``: ``rate_in_<name>_hz``,
    ``received_<name>``, ``silent_s_<name>`` per input."""
    out = []
    for s in states:
        out += [(f"rate_in_{s.name}_hz", f"{s.rate_hz:.2f}"), (f"received_{s.name}",
                str(s.received)), (f"silent_s_{s.name}", f"{s.silent_s:.2f}")]
    return out
