"""Stamp-keyed synchroniser: ordering, holds, drops, duplicates, overload, threads, stats."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sim2real_gan.pipeline import FrameSynchronizer, ManualClock, SyncConfig
from sim2real_gan.pipeline.sync import Frame

LABELS = ("segmentation", "depth", "uv")
MS = 1_000_000


def _sync(policy: str = "latest", **kw) -> tuple[FrameSynchronizer, ManualClock]:
    clock = ManualClock(0)
    cfg = SyncConfig(label_keys=LABELS, policy=policy, **{"hold_ns": 50 * MS, **kw})
    return FrameSynchronizer(cfg, clock=clock), clock


def _parts(stamp: int) -> list[tuple[str, int, tuple[str, int]]]:
    """All messages of one frame; each message records its own kind and stamp."""
    keys = ("image", "camera_info") + LABELS
    return [(k, stamp, (k, stamp)) for k in keys]


def _assert_consistent(frame: Frame) -> None:
    """No part is ever paired with another stamp's image."""
    assert frame.image == ("image", frame.stamp_ns)
    assert frame.camera_info == ("camera_info", frame.stamp_ns)
    assert frame.labels == {k: (k, frame.stamp_ns) for k in LABELS}
    assert set(frame.part_stamps.values()) == {frame.stamp_ns}


@pytest.mark.parametrize("image_first", [True, False])
def test_labels_before_or_after_image(image_first: bool) -> None:
    sync, _ = _sync()
    parts = _parts(100)
    parts = parts if image_first else parts[1:] + parts[:1]
    for key, stamp, msg in parts[:-1]:
        sync.add(key, stamp, msg)
        assert sync.pop() is None
    sync.add(*parts[-1])
    frame = sync.pop()
    assert frame is not None and frame.stamp_ns == 100
    _assert_consistent(frame)
    assert sync.pop() is None and sync.pending_count == 0


def test_missing_label_is_held_then_dropped_and_counted() -> None:
    sync, clock = _sync(policy="ordered")
    for key, stamp, msg in _parts(10):
        if key != "depth":
            sync.add(key, stamp, msg)
    clock.advance(50 * MS)  # exactly the tolerance: still held
    sync.expire()
    assert sync.pending_count == 1 and sync.stats.frame_drops == {}
    clock.advance(1)
    sync.expire()
    assert sync.pending_count == 0
    assert sync.stats.frame_drops == {"incomplete": 1}
    assert sync.stats.missing == {"depth": 1}
    sync.add("depth", 10, ("depth", 10))  # arrives too late: never published
    assert sync.stats.message_drops == {"late": 1}
    for part in _parts(20):
        sync.add(*part)
    assert sync.drain() == []  # ordered: held for the reorder window (an older image may come)
    frames = sync.finish()
    assert [f.stamp_ns for f in frames] == [20]
    _assert_consistent(frames[0])


def test_a_missing_image_is_counted_once_per_frame() -> None:
    """``missing`` counts incomplete frames by the part they lacked: an image that never
    came counts once for its stamp, however many labels waited for it."""
    sync, clock = _sync(policy="ordered")
    for stamp in (10, 20):
        for key, _, msg in _parts(stamp)[1:]:  # camera_info + 3 labels, no image
            sync.add(key, stamp, msg)
        clock.advance(30 * MS)  # the two stamps' orphans expire in different calls
        sync.expire()
    clock.advance(100 * MS)
    sync.expire()
    assert sync.stats.missing == {"image": 2}
    assert sync.stats.message_drops == {"orphan": 8}
    for key, stamp, msg in _parts(30):
        if key != "depth":
            sync.add(key, stamp, msg)
    clock.advance(100 * MS)
    sync.expire()
    assert sync.stats.missing == {"image": 2, "depth": 1}  # a frame lacking one label: once


def test_label_without_image_is_an_orphan() -> None:
    sync, clock = _sync()
    sync.add("segmentation", 5, ("segmentation", 5))
    clock.advance(51 * MS)
    sync.expire()
    assert sync.stats.message_drops == {"orphan": 1} and sync.pending_count == 0


def test_duplicate_stamps_are_counted_and_published_once() -> None:
    sync, _ = _sync()
    sync.add("image", 7, ("image", 7))
    sync.add("image", 7, ("image-dup", 7))
    sync.add("depth", 7, ("depth", 7))
    sync.add("depth", 7, ("depth-dup", 7))
    for part in _parts(7):
        if part[0] not in ("image", "depth"):
            sync.add(*part)
    frame = sync.pop()
    _assert_consistent(frame)
    for part in _parts(7):  # the whole frame again after publication
        sync.add(*part)
    assert sync.pop() is None
    assert sync.stats.message_drops == {"duplicate": 2 + 5}
    assert sync.stats.frame_drops == {}


def test_out_of_order_arrival_ordered_policy_keeps_every_frame() -> None:
    sync, _ = _sync(policy="ordered")
    rng = random.Random(0)
    messages = [p for s in (3, 1, 4, 2, 5) for p in _parts(s * 10)]
    rng.shuffle(messages)
    out: list[Frame] = []
    for m in messages:
        sync.add(*m)
        out += sync.drain()
    out += sync.finish()
    assert [f.stamp_ns for f in out] == [10, 20, 30, 40, 50]
    for f in out:
        _assert_consistent(f)
    assert sync.stats.frame_drops == {} and sync.stats.message_drops == {}


def test_out_of_order_arrival_latest_policy_gives_newest() -> None:
    sync, _ = _sync()
    for stamp in (30, 10, 20):
        for part in _parts(stamp):
            sync.add(*part)
    frame = sync.pop()
    _assert_consistent(frame)
    assert frame.stamp_ns == 30
    assert sync.stats.frame_drops == {"stale": 2}  # 10 and 20 completed after 30
    sync.add("image", 25, ("image", 25))  # older than what was published
    assert sync.stats.message_drops == {"late": 1}


def test_slop_matches_nearest_within_tolerance() -> None:
    sync, _ = _sync(slop_ns=2 * MS)
    sync.add("image", 100 * MS, "img")
    sync.add("camera_info", 100 * MS, "info")
    sync.add("segmentation", 101 * MS, "seg")
    sync.add("depth", 99 * MS, "depth")
    sync.add("uv", 103 * MS, "uv-too-far")
    assert sync.pop() is None
    sync.add("uv", 98 * MS, "uv")
    frame = sync.pop()
    assert frame.labels == {"segmentation": "seg", "depth": "depth", "uv": "uv"}
    assert frame.part_stamps["depth"] == 99 * MS


def test_max_pending_bounds_memory() -> None:
    sync, _ = _sync(max_pending=4)
    for s in range(10):
        sync.add("image", s, ("image", s))  # labels never come
        assert sync.pending_count <= 4
    assert sync.stats.frame_drops == {"overflow": 6}
    for s in range(100, 120):
        sync.add("depth", s, ("depth", s))  # orphans of one key are bounded too
    assert sync.pending_count <= 4 + 4


def test_producer_twice_as_fast_as_consumer() -> None:
    """Frames every 10 ms with jittered, shuffled parts; translating one takes 20 ms."""
    sync, clock = _sync(max_pending=4)
    rng = random.Random(1)
    events = []  # (time, message)
    for i in range(200):
        stamp = 1_000 * MS + i * 10 * MS
        for part in _parts(stamp):
            events.append((i * 10 * MS + rng.randint(0, 15 * MS), part))
    events.sort(key=lambda e: e[0])
    published, busy_until, peak = [], 0, 0
    for t, part in events:
        clock.set(t)
        if t >= busy_until:
            frame = sync.pop()
            if frame is not None:
                _assert_consistent(frame)
                published.append(frame.stamp_ns)
                busy_until = t + 20 * MS
                sync.mark_published(frame, now_ns=busy_until)
        sync.add(*part)
        peak = max(peak, sync.pending_count)
    rest = sync.finish()
    stats = sync.snapshot()
    assert 70 <= len(published) <= 110  # about half the frames
    assert published == sorted(set(published))  # monotonic, never twice
    assert peak <= 4 + 4 * len(LABELS) + 4  # bounded: frames + per-key orphans
    # every frame is accounted for: published, still ready at the end, or dropped as stale
    assert len(published) + len(rest) + stats.frames_dropped == 200
    assert set(stats.frame_drops) == {"stale"}
    assert stats.published == len(published)
    assert stats.latency_p50_ms >= 20 and stats.rate_hz == pytest.approx(50, rel=0.2)


def test_threads_never_mix_stamps() -> None:
    sync = FrameSynchronizer(SyncConfig(label_keys=LABELS, hold_ns=20 * MS, max_pending=4))
    n_frames, done = 400, threading.Event()
    out: list[Frame] = []

    def producer(keys: tuple[str, ...]) -> None:
        for i in range(n_frames):
            for k in keys:
                sync.add(k, i + 1, (k, i + 1))
            if i % 50 == 0:
                time.sleep(0.001)

    def consumer() -> None:
        while not done.is_set() or sync.pending_count:
            frame = sync.wait(timeout_s=0.01)
            if frame is not None:
                out.append(frame)
                time.sleep(0.0002)
            elif done.is_set():
                break

    threads = [threading.Thread(target=producer, args=(ks,)) for ks in
               (("image", "camera_info"), ("segmentation",), ("depth", "uv"))]
    cons = threading.Thread(target=consumer)
    cons.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    done.set()
    cons.join(timeout=10)
    assert out, "the consumer received no frame"
    for f in out:
        _assert_consistent(f)
    stamps = [f.stamp_ns for f in out]
    assert stamps == sorted(set(stamps))


def test_stats_latency_and_rate() -> None:
    sync, clock = _sync()
    for i in range(10):
        clock.set(i * 100 * MS)
        for part in _parts(i):
            sync.add(*part)
        frame = sync.pop()
        sync.mark_published(frame, now_ns=clock() + (5 + i) * MS)
    snap = sync.snapshot()
    assert snap.published == 10
    assert snap.latency_p50_ms == pytest.approx(9.5)
    assert 13 < snap.latency_p99_ms <= 14
    assert snap.rate_hz == pytest.approx(10.0, rel=0.02)
    assert "published 10" in snap.line()


def test_config_and_key_validation() -> None:
    with pytest.raises(ValueError, match="policy"):
        SyncConfig(policy="fifo")
    with pytest.raises(ValueError, match="reserved"):
        SyncConfig(label_keys=("image",))
    with pytest.raises(ValueError, match="unique"):
        SyncConfig(label_keys=("a", "a"))
    with pytest.raises(ValueError, match="max_pending"):
        SyncConfig(max_pending=0)
    sync, _ = _sync()
    with pytest.raises(KeyError, match=r"'flow'.*segmentation"):
        sync.add("flow", 1, None)


def test_reset_after_time_jumps_back() -> None:
    sync, _ = _sync()
    for part in _parts(500):
        sync.add(*part)
    assert sync.pop().stamp_ns == 500
    sync.add("image", 600, ("image", 600))  # held, incomplete
    for part in _parts(10):  # simulation restarted: older stamps are late ...
        sync.add(*part)
    assert sync.pop() is None and sync.stats.message_drops["late"] == 5
    assert sync.reset() == 1  # ... until reset
    for part in _parts(10):
        sync.add(*part)
    frame = sync.pop()
    _assert_consistent(frame)
    assert frame.stamp_ns == 10 and sync.stats.frame_drops == {"reset": 1}
