"""Per-input receive monitor (pipeline.monitor) on an injected clock: rates, silence, resume."""

from __future__ import annotations

import pytest
from sim2real_gan.pipeline.monitor import (
    InputMonitor,
    MonitorConfig,
    diagnostic_values,
    inputs_line,
)
from sim2real_gan.pipeline.stats import ManualClock

MS = 1_000_000
NAMES = {"image": "image_raw", "camera_info": "camera_info",
         "/sim/camera/segmentation": "segmentation", "/sim/camera/depth": "depth"}


def run(mon: InputMonitor, clock: ManualClock, ms: int, period_ms: int, keys) -> list:
    """Advance ``ms`` in steps of ``period_ms``; each step every key in ``keys`` arrives;
    returns every event that ``check`` reported on the way."""
    events = []
    for _ in range(ms // period_ms):
        clock.advance(period_ms * MS)
        for key in keys:
            mon.note(key)
        events += mon.check()
    return events


def test_rates_and_counts_follow_the_arrivals() -> None:
    clock = ManualClock()
    mon = InputMonitor(NAMES, clock)
    run(mon, clock, 10_000, 33, NAMES)  # 30 Hz for 10 s
    for i in range(200):  # then labels at 10 Hz, image and camera_info at 30 Hz
        clock.advance(33 * MS)
        mon.note("image")
        mon.note("camera_info")
        if i % 3 == 0:
            mon.note("/sim/camera/segmentation")
            mon.note("/sim/camera/depth")
    by_name = {s.name: s for s in mon.snapshot()}
    assert by_name["image_raw"].rate_hz == pytest.approx(30.3, abs=0.5)
    assert by_name["depth"].rate_hz == pytest.approx(10.1, abs=0.5)
    assert by_name["image_raw"].received == 303 + 200
    assert by_name["depth"].received == 303 + 67
    assert not any(s.silent for s in by_name.values())


def test_a_label_that_stops_is_reported_once_and_its_resume_too() -> None:
    clock = ManualClock()
    mon = InputMonitor(NAMES, clock)
    assert run(mon, clock, 3000, 33, NAMES) == []
    others = ["image", "camera_info", "/sim/camera/segmentation"]
    events = run(mon, clock, 6000, 33, others)  # depth stops; 10 image periods < 1 s floor
    assert [(e.kind, e.name) for e in events] == [("silent", "depth")]
    assert events[0].seconds == pytest.approx(1.0, abs=0.05)
    text = events[0].message
    assert "depth" in text and "image_raw 30" in text and "qos" in text
    depth = {s.name: s for s in mon.snapshot()}["depth"]
    assert depth.silent and depth.silent_s == pytest.approx(6.0, abs=0.05)
    assert depth.rate_hz == 0.0 and "SILENT 6.0 s" in inputs_line(mon.snapshot())
    events = run(mon, clock, 1000, 33, NAMES)
    assert [(e.kind, e.name) for e in events] == [("resumed", "depth")]
    assert events[0].seconds == pytest.approx(6.0, abs=0.05)
    assert not any(s.silent for s in mon.snapshot())


def test_the_limit_scales_with_a_slow_camera() -> None:
    clock = ManualClock()
    mon = InputMonitor(NAMES, clock)
    run(mon, clock, 4000, 200, NAMES)  # 5 Hz: limit = 10 periods = 2 s
    assert mon.threshold_ns() == 2000 * MS
    events = run(mon, clock, 1800, 200, ["image", "camera_info"])
    assert events == []
    events = run(mon, clock, 600, 200, ["image", "camera_info"])
    assert sorted(e.name for e in events) == ["depth", "segmentation"]


def test_everything_quiet_is_a_stopped_camera_not_a_silent_input() -> None:
    clock = ManualClock()
    mon = InputMonitor(NAMES, clock)
    run(mon, clock, 2000, 33, NAMES)
    clock.advance(30_000 * MS)
    assert mon.check() == []
    assert not any(s.silent for s in mon.snapshot())
    assert [s.silent_s for s in mon.snapshot()] == [pytest.approx(30.0, abs=0.05)] * 4


def test_an_input_that_never_arrives_is_named() -> None:
    clock = ManualClock()
    mon = InputMonitor(NAMES, clock)
    events = run(mon, clock, 1500, 33, ["image", "camera_info", "/sim/camera/segmentation"])
    assert [(e.kind, e.name) for e in events] == [("silent", "depth")]
    assert "no message yet" in events[0].message
    assert "0 received" in events[0].message


def test_diagnostic_values_name_every_input() -> None:
    clock = ManualClock()
    mon = InputMonitor(NAMES, clock)
    run(mon, clock, 2000, 50, NAMES)
    values = dict(diagnostic_values(mon.snapshot()))
    assert set(values) == {f"{k}_{n}{s}" for n in NAMES.values()
                           for k, s in (("rate_in", "_hz"), ("received", ""), ("silent_s", ""))}
    assert float(values["rate_in_depth_hz"]) == pytest.approx(20.0, abs=0.5)
    assert values["received_image_raw"] == "40"


def test_bad_input_is_refused_with_the_reason() -> None:
    mon = InputMonitor(NAMES, ManualClock())
    with pytest.raises(KeyError, match="unknown input '/other'"):
        mon.note("/other")
    with pytest.raises(ValueError, match="at least one input"):
        InputMonitor({}, ManualClock())
    with pytest.raises(ValueError, match="silent_floor_s: expected a positive number"):
        MonitorConfig(silent_floor_s=0.0)
