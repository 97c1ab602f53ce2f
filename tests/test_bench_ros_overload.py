"""benchmarks/ros_overload_report.py: the numbers of an overload run from plain data (no ROS)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from ros_overload_report import analyse, node_warnings, silences, summary, table  # noqa: E402

S = 1_000_000_000
DEPTH = "/sim/camera/depth"
SEG = "/sim/camera/segmentation"


def reports(depth_stops_at: int | None, seconds: int = 10) -> list[dict]:
    """1 Hz node reports at 30 Hz input; depth stops after ``depth_stops_at`` s."""
    out = []
    for t in range(seconds + 1):
        depth = 30 * (t if depth_stops_at is None else min(t, depth_stops_at))
        out.append({"wall_ns": t * S, "published": 5 * t, "frame_drops": {"stale": t},
                    "received": {"image": 30 * t, "camera_info": 30 * t, SEG: 30 * t,
                                 DEPTH: depth},
                    "missing": {DEPTH: max(0, t - (depth_stops_at or t))},
                    "qos": "depth reliable"})
    return out


def test_silences_find_a_stall_to_the_end_and_ignore_short_gaps() -> None:
    assert silences(reports(None), 0, 3.0) == {}
    stall = silences(reports(4), 0, 3.0)
    assert stall == {"depth": {"from_s": 4.0, "silent_s": 6.0, "until_end": True}}
    assert silences(reports(8), 0, 3.0) == {}  # 2 s before the end: shorter than 3 s


def run(variant: str, depth_stops_at: int | None) -> dict:
    pub = {"sent_at_ns": [i * S // 30 for i in range(301)], "missed_slots": 0,
           "publish_ms": {"depth": {"p50": 5.0, "p99": 20.0, "max": 30.0}}}
    probe = {"out/image_raw": [(t * S // 5 + 100_000_000, t * S // 5) for t in range(50)]}
    probe.update({f"out/{t}": [] for t in ("camera_info", "segmentation", "depth")})
    r = analyse(0, 10 * S, pub, reports(depth_stops_at), probe, 3.0)
    r.update(run=1, variant=variant, rss_mib=[150.0, 250.0],
             node_warnings=node_warnings(["[WARN] input depth went silent: ..."]
                                         if depth_stops_at else []))
    return r


def test_analyse_rates_latency_and_missing_inputs() -> None:
    r = run("old", 4)
    assert r["out_hz"] == [5.0]
    assert r["latency_ms"]["p50"] == pytest.approx(100.0)
    assert r["node_rate_hz"]["image_raw"] == pytest.approx(30.0)
    assert r["node_rate_hz"]["depth"] == pytest.approx(12.0)
    assert r["missing"] == {"depth": 6} and r["qos"] == "depth reliable"
    assert r["node_warnings"] == {"went_silent": 1, "resumed": 0, "incompatible_qos": 0}
    row = table([r], control=False).splitlines()[-1]
    assert "depth from 4 s for 6 s (to end)" in row and "1 / 0" in row


def test_summary_counts_stalled_runs_per_variant() -> None:
    lines = summary([run("old", 4), run("new", None), run("old", None)]).splitlines()
    assert lines[2].startswith("| old | 2 | 1 |") and lines[3].startswith("| new | 1 | 0 |")
