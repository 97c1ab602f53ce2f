"""The node's status line and /diagnostics content (pipeline.status), without ROS: a real
synchroniser on an injected clock, real input states."""

from __future__ import annotations

from sim2real_gan.pipeline import FrameSynchronizer, ManualClock, SyncConfig
from sim2real_gan.pipeline.monitor import InputState
from sim2real_gan.pipeline.status import (
    NodeStatus,
    diagnostic_pairs,
    status_line,
    summary,
    unconfigured_line,
)

MS = 1_000_000
SEG, DEPTH = "/sim/camera/segmentation", "/sim/camera/depth"
NAMES = {"image": "image_raw", SEG: "segmentation", DEPTH: "depth"}


def _snapshot(published: int, incomplete: int):
    """``published`` whole frames, then ``incomplete`` frames whose depth never came."""
    clock = ManualClock(0)
    sync = FrameSynchronizer(SyncConfig(label_keys=(SEG, DEPTH), camera_info=False,
                                        hold_ns=50 * MS, policy="ordered"), clock=clock)
    stamp = 0
    for i in range(published + incomplete):
        stamp += 33 * MS
        clock.advance(33 * MS)
        sync.add_image(stamp, "img")
        sync.add_label(SEG, stamp, "seg")
        if i < published:
            sync.add_label(DEPTH, stamp, "depth")
    clock.advance(100 * MS)
    for frame in sync.finish():
        sync.mark_published(frame)
    return sync.snapshot()


def _inputs(silent_depth: bool) -> list[InputState]:
    return [InputState("image", "image_raw", 40, 29.8, 0.03, False),
            InputState(DEPTH, "depth", 12, 0.0 if silent_depth else 29.8,
                       3.1 if silent_depth else 0.03, silent_depth)]


def _status(**kw) -> NodeStatus:
    base = dict(backend="onnxruntime-cpu", model="models/default", style="seed 1",
                snap=_snapshot(3, 2), active=True, names=NAMES, inputs=_inputs(False),
                qos={"image": "reliable", DEPTH: "best_effort"})
    return NodeStatus(**{**base, **kw})


def test_status_line_names_backend_style_drops_inputs_and_notes() -> None:
    st = _status(notes=("right camera_info baseline: none",))
    line = status_line(st)
    assert line.startswith("[onnxruntime-cpu, style seed 1] published 3 (")
    assert "frames dropped: incomplete 2 (missing depth 2); messages dropped: none" in line
    assert "; right camera_info baseline: none; inputs: image_raw 29.8 Hz, depth 29.8 Hz" \
        in line
    assert "\n" not in line
    inactive = status_line(_status(active=False))
    assert "inputs:" not in inactive
    assert unconfigured_line(None) == "[none] not configured"
    assert unconfigured_line("onnxruntime-cpu") == "[onnxruntime-cpu] not configured"


def test_summary_level_and_message() -> None:
    assert summary(_status(active=False)) == ("ok", "inactive")
    assert summary(_status(inputs=_inputs(True))) == ("warn",
                                                      "silent input(s): depth for 3.1 s")
    assert summary(_status(errors=4)) == ("warn", "4 frames failed to translate")
    assert summary(_status(snap=_snapshot(0, 2))) == ("warn", "no frame translated yet")
    level, message = summary(_status())
    assert level == "ok" and message.endswith(" Hz")


def test_diagnostic_pairs_name_each_input_and_drop() -> None:
    st = _status()
    pairs = diagnostic_pairs(st)
    keys = [k for k, _ in pairs]
    values = dict(pairs)
    assert keys[:8] == ["backend", "model", "style", "rate_hz", "latency_p50_ms",
                        "latency_p99_ms", "published", "frames_dropped"]
    assert keys[-3:] == ["episodes", "resets", "pending"]
    assert values["published"] == "3" and values["frames_dropped"] == "2"
    assert values["dropped_incomplete"] == "2"
    assert values["dropped_incomplete_missing_depth"] == "2"  # the input's name, not the key
    assert values["rate_in_depth_hz"] == "29.80" and values["received_image_raw"] == "40"
    assert values["qos_in_image_raw"] == "reliable" and values["qos_in_depth"] == "best_effort"
    assert len(keys) == len(set(keys))
