"""Stamps in the synchroniser: reorder window, simulator resets, episodes (ManualClock)."""

from __future__ import annotations

import pytest
from sim2real_gan.pipeline import FrameSynchronizer, ManualClock, SyncConfig
from sim2real_gan.pipeline.episodes import StampTracker
from sim2real_gan.pipeline.sync import Frame

LABELS = ("segmentation", "depth")
MS = 1_000_000
PERIOD = 33 * MS


def _sync(policy: str, **kw) -> tuple[FrameSynchronizer, ManualClock]:
    clock = ManualClock(0)
    cfg = SyncConfig(label_keys=LABELS, policy=policy, **{"hold_ns": 500 * MS, **kw})
    return FrameSynchronizer(cfg, clock=clock), clock


def _msgs(stamp: int, tag: str) -> dict[str, tuple[str, int, str]]:
    """One frame's messages; each knows its part, stamp and episode tag."""
    return {k: (k, stamp, tag) for k in ("image", "camera_info") + LABELS}


def _check(frame: Frame) -> str:
    """Every part has the image's stamp and the image's episode tag; returns the tag."""
    tag = frame.image[2]
    assert frame.image == ("image", frame.stamp_ns, tag)
    assert frame.camera_info == ("camera_info", frame.stamp_ns, tag)
    assert frame.labels == {k: (k, frame.stamp_ns, tag) for k in LABELS}
    return tag


class Feed:
    """Adds messages one by one (the clock moves 1 ms per message) and pops after each add,
    as the node's worker or translate-bag would."""

    def __init__(self, sync: FrameSynchronizer, clock: ManualClock):
        self.sync, self.clock, self.out = sync, clock, []

    def add(self, key: str, msg: tuple) -> None:
        self.clock.advance(MS)
        self.sync.add(key, msg[1], msg)
        self.out += self.sync.drain()

    def frame(self, stamp: int, tag: str, order=("segmentation", "image", "camera_info",
                                                   "depth")) -> None:
        msgs = _msgs(stamp, tag)
        for key in order:
            self.add(key, msgs[key])

    def finish(self) -> list[Frame]:
        self.out += self.sync.finish()
        return self.out


def test_stamp_tracker_classifies() -> None:
    t = StampTracker(reorder_ns=100, gap_ns=1_000)
    kinds = [t.observe(s) for s in (0, 50, 40, 50, 5_000, 4_950, 10, 20)]
    assert kinds == ["first", "forward", "reorder", "forward", "gap", "reorder", "reset",
                     "forward"]
    assert t.episode == 3 and t.newest == 20
    assert t.behind(-81) and not t.behind(-80)
    with pytest.raises(ValueError, match="reorder_ns"):
        StampTracker(-1)


def test_swapped_images_are_released_in_order_and_none_dropped() -> None:
    """translate-bag (ordered): two frames whose messages arrive swapped."""
    sync, clock = _sync("ordered")
    feed = Feed(sync, clock)
    stamps = [i * PERIOD for i in range(10)]
    for s in stamps[:3] + [stamps[4], stamps[3]] + stamps[5:]:
        feed.frame(s, "A")
    out = feed.finish()
    assert [f.stamp_ns for f in out] == stamps and {_check(f) for f in out} == {"A"}
    snap = sync.snapshot()
    assert snap.frame_drops == {} and snap.message_drops == {}
    assert (snap.reordered, snap.resets, snap.episodes) == (1, 0, 1)


def test_only_the_image_swapped_keeps_every_frame() -> None:
    """Labels in order, images swapped: the image of frame 4 comes before that of frame 3."""
    sync, clock = _sync("ordered")
    feed = Feed(sync, clock)
    stamps = [i * PERIOD for i in range(6)]
    for i, s in enumerate(stamps):
        msgs = _msgs(s, "A")
        img = _msgs(stamps[{3: 4, 4: 3}.get(i, i)], "A")["image"]
        for key in ("segmentation", "camera_info", "depth"):
            feed.add(key, msgs[key])
        feed.add("image", img)
    out = feed.finish()
    assert [f.stamp_ns for f in out] == stamps and all(_check(f) == "A" for f in out)
    assert sync.snapshot().frame_drops == {}


@pytest.mark.parametrize("policy", ["ordered", "latest"])
def test_labels_around_a_reset_are_all_paired(policy: str) -> None:
    """Episode A runs at 10 s; the simulator resets to 0 s (episode B). Labels of B's first
    frames arrive before the first post-reset image, and after it; a late label of A's last
    frame arrives after the reset. Every frame of B is kept, nothing is misaligned."""
    sync, clock = _sync(policy)
    feed = Feed(sync, clock)
    a = [10_000 * MS + i * PERIOD for i in range(6)]
    b = [i * PERIOD for i in range(6)]
    for s in a[:-1]:
        feed.frame(s, "A")
    last_a = _msgs(a[-1], "A")
    for key in ("segmentation", "image", "camera_info"):  # A's last depth comes too late
        feed.add(key, last_a[key])
    b0, b1 = _msgs(b[0], "B"), _msgs(b[1], "B")
    feed.add("segmentation", b0["segmentation"])  # before the first post-reset image
    feed.add("camera_info", b0["camera_info"])
    feed.add("segmentation", b1["segmentation"])  # the next frame's label, earlier still
    feed.add("image", b0["image"])                 # the reset
    feed.add("depth", last_a["depth"])             # straggler of A: never paired with B
    feed.add("depth", b0["depth"])                 # after the reset image
    for key in ("image", "camera_info", "depth"):
        feed.add(key, b1[key])
    for s in b[2:]:
        feed.frame(s, "B")
    out = feed.finish()
    tags = [_check(f) for f in out]
    assert [f.stamp_ns for f in out] == a[:-1] + b and tags == ["A"] * 5 + ["B"] * 6
    assert [f.episode for f in out] == [1] * 5 + [2] * 6
    snap = sync.snapshot()
    assert snap.frame_drops == {"reset": 1}  # A's last frame, incomplete at the reset
    assert snap.message_drops == {"late": 1} and snap.message_drops_by_key == {
        "depth": {"late": 1}}
    assert (snap.resets, snap.episodes, sync.episode) == (1, 2, 2)


def test_reset_releases_complete_frames_of_the_old_episode_first() -> None:
    """ordered: frames held in the reorder window when a reset comes are not lost."""
    sync, clock = _sync("ordered")
    feed = Feed(sync, clock)
    for i in range(4):
        feed.frame(5_000 * MS + i * PERIOD, "A")
    assert len(feed.out) < 4  # the last ones are held for the reorder window
    for i in range(3):
        feed.frame(i * PERIOD, "B")
    out = feed.finish()
    assert [_check(f) for f in out] == ["A"] * 4 + ["B"] * 3
    assert sync.snapshot().frame_drops == {}


def test_rewind_straggler_is_not_paired_with_the_same_stamp_of_the_new_episode() -> None:
    """A simulator that rewinds 330 ms: the new episode repeats the old stamps. A label of
    the old episode that arrives after the reset must not join the new frame of that stamp."""
    sync, clock = _sync("ordered")
    feed = Feed(sync, clock)
    stamps = [i * PERIOD for i in range(11)]
    for s in stamps[:-1]:
        feed.frame(s, "A")
    last = _msgs(stamps[-1], "A")
    for key in ("segmentation", "image", "camera_info"):
        feed.add(key, last[key])
    feed.frame(stamps[0], "B")                   # rewind to 0: reset
    feed.add("depth", last["depth"])             # A's straggler, stamp 330 ms
    for s in stamps[1:]:
        feed.frame(s, "B")                       # B reaches 330 ms within the hold
    out = feed.finish()
    assert [_check(f) for f in out] == ["A"] * 10 + ["B"] * 11
    assert sync.snapshot().message_drops == {"late": 1}


def test_episode_gap_and_manual_reset() -> None:
    sync, clock = _sync("latest", episode_gap_ns=1_000 * MS)
    feed = Feed(sync, clock)
    feed.frame(0, "A")
    feed.frame(PERIOD, "A")
    feed.frame(5_000 * MS, "B")  # forward gap: new episode, nothing dropped
    held = _msgs(5_000 * MS + PERIOD, "B")
    feed.add("image", held["image"])
    assert sync.reset() == 1     # by hand (e.g. ROS time jumped): the incomplete frame goes
    feed.frame(5_000 * MS + PERIOD, "C")  # same stamp again, new episode: not a duplicate
    out = feed.finish()
    assert [(_check(f), f.episode) for f in out] == [("A", 1), ("A", 1), ("B", 2), ("C", 3)]
    assert sync.snapshot().frame_drops == {"reset": 1}


def test_zero_reorder_window_treats_any_step_back_as_a_reset_without_loss() -> None:
    sync, clock = _sync("ordered", reorder_ns=0)
    feed = Feed(sync, clock)
    for s in (0, 2 * PERIOD, PERIOD, 3 * PERIOD):
        feed.frame(s, "A")
    out = feed.finish()
    assert [f.stamp_ns for f in out] == [0, 2 * PERIOD, PERIOD, 3 * PERIOD]
    assert [f.episode for f in out] == [1, 1, 2, 2] and sync.snapshot().frame_drops == {}


def test_latest_policy_drops_an_out_of_order_frame_already_overtaken() -> None:
    """The node never waits: a frame older than one already published is late (counted)."""
    sync, clock = _sync("latest")
    feed = Feed(sync, clock)
    feed.frame(0, "A")
    feed.frame(2 * PERIOD, "A")
    feed.frame(PERIOD, "A")  # within the window: not a reset, but already overtaken
    out = feed.finish()
    assert [f.stamp_ns for f in out] == [0, 2 * PERIOD]
    snap = sync.snapshot()
    assert snap.resets == 0 and snap.message_drops["late"] == 4  # image + 3 parts
