"""What the translator node reports, free of rclpy: its status log line and ``/diagnostics``.

The node gathers one :class:`NodeStatus` (translator, worker, synchroniser snapshot, input
monitor, QoS choices) and turns it into rclpy calls; everything said here is formatted here,
so it is unit-tested without a ROS graph.

Example:
    >>> st = NodeStatus(backend="onnxruntime-cpu", model="models/default", style="seed 1",
    ...                 snap=snapshot, active=True)             # doctest: +SKIP
    >>> status_line(st)                                         # doctest: +SKIP
    '[onnxruntime-cpu, style seed 1] published 120 (29.8 Hz), latency p50 ...'
    >>> summary(st)                                             # doctest: +SKIP
    ('ok', '29.8 Hz')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sim2real_gan.pipeline.monitor import InputState, diagnostic_values, inputs_line
from sim2real_gan.pipeline.stats import StatsSnapshot

Level = Literal["ok", "warn"]
NOT_CONFIGURED = "unconfigured"


@dataclass(frozen=True)
class NodeStatus:
    """The node at one instant (a configured node; see :func:`unconfigured_line`).

    ``names``: synchroniser key -> input name (``depth``); ``inputs``: the monitor's states
    (empty while inactive); ``qos``: input key -> chosen reliability; ``notes``: extra
    clauses for the log line (stereo baseline, eyes whose stamps never match).
    """

    backend: str
    model: str
    style: str
    snap: StatsSnapshot
    active: bool
    errors: int = 0
    names: Mapping[str, str] = field(default_factory=dict)
    inputs: Sequence[InputState] = ()
    qos: Mapping[str, str] = field(default_factory=dict)
    notes: Sequence[str] = ()


def unconfigured_line(backend: str | None) -> str:
    """The status line before configure: ``[none] not configured``."""
    return f"[{backend or 'none'}] not configured"


def status_line(st: NodeStatus) -> str:
    """``[backend, style S] <synchroniser line>[; notes][; inputs: ...]`` (one line)."""
    line = f"[{st.backend}, style {st.style}] {st.snap.line(st.names)}"
    line += "".join(f"; {n}" for n in st.notes)
    if st.active and st.inputs:
        line += f"; {inputs_line(list(st.inputs))}"
    return line


def summary(st: NodeStatus) -> tuple[Level, str]:
    """The diagnostic level and message: inactive, silent inputs (named, with seconds),
    failed frames, nothing translated yet, else the output rate."""
    silent = [i for i in st.inputs if i.silent]
    if not st.active:
        return "ok", "inactive"
    if silent:
        return "warn", "silent input(s): " + ", ".join(
            f"{i.name} for {i.silent_s:.1f} s" for i in silent)
    if st.errors:
        return "warn", f"{st.errors} frames failed to translate"
    if st.snap.published == 0:
        return "warn", "no frame translated yet"
    return "ok", f"{st.snap.rate_hz:.1f} Hz"


def diagnostic_pairs(st: NodeStatus) -> list[tuple[str, str]]:
    """``(key, value)`` pairs of the node's ``/diagnostics`` status, in publishing order."""
    snap, names = st.snap, st.names
    out = [("backend", st.backend), ("model", st.model), ("style", st.style),
           ("rate_hz", f"{snap.rate_hz:.2f}"), ("latency_p50_ms", f"{snap.latency_p50_ms:.2f}"),
           ("latency_p99_ms", f"{snap.latency_p99_ms:.2f}"), ("published", str(snap.published)),
           ("frames_dropped", str(snap.frames_dropped))]
    out += [(f"dropped_{reason}", str(n)) for reason, n in sorted(snap.frame_drops.items())]
    out += [(f"dropped_incomplete_missing_{names.get(key, key)}", str(n))
            for key, n in sorted(snap.missing.items())]
    out += diagnostic_values(list(st.inputs))
    out += [(f"qos_in_{names.get(key, key)}", rel) for key, rel in st.qos.items()]
    out += [(f"messages_dropped_{reason}", str(n))
            for reason, n in sorted(snap.message_drops.items())]
    out += [("episodes", str(snap.episodes)), ("resets", str(snap.resets)),
            ("pending", str(snap.pending))]
    return out
