"""Classify image stamps: in order, out of order (reorder window), reset, or an episode gap.

The one place that decides what a stamp going back means, used by the synchroniser for the
node and ``translate-bag`` alike:

- ``forward``: the stamp is at or after the newest image stamp seen;
- ``reorder``: at most ``reorder_ns`` behind the newest: an out-of-order arrival (two
  swapped frames), same episode;
- ``reset``: more than ``reorder_ns`` behind the newest ("far back": a simulator reset);
  a new episode starts at this stamp;
- ``gap``: more than ``gap_ns`` after the newest (``gap_ns`` > 0): a new episode without a
  reset (the synthetic camera starts each scene 10 s later);
- ``first``: the first image (episode 1).

Example:
    >>> t = StampTracker(reorder_ns=100, gap_ns=1_000)
    >>> [t.observe(s) for s in (0, 50, 40, 5_000, 10)]
    ['first', 'forward', 'reorder', 'gap', 'reset']
    >>> t.episode
    3
"""

from __future__ import annotations

STAMP_KINDS = ("first", "forward", "reorder", "reset", "gap")
NEW_EPISODE = ("first", "reset", "gap")


class StampTracker:
    """Newest image stamp and episode number of one image stream.

    Args:
        reorder_ns: how far (stamp time) an image may be behind the newest and still count
            as an out-of-order arrival; further back is a reset.
        gap_ns: a forward jump larger than this starts a new episode (0 = never).
    """

    def __init__(self, reorder_ns: int, gap_ns: int = 0):
        if reorder_ns < 0 or gap_ns < 0:
            raise ValueError(f"reorder_ns and gap_ns must be >= 0, got {reorder_ns}, {gap_ns}")
        self.reorder_ns = int(reorder_ns)
        self.gap_ns = int(gap_ns)
        self.newest: int | None = None
        self.episode = 0

    def classify(self, stamp_ns: int) -> str:
        """What ``stamp_ns`` would be, without recording it."""
        if self.newest is None:
            return "first"
        if stamp_ns >= self.newest:
            jump = stamp_ns - self.newest
            return "gap" if self.gap_ns and jump > self.gap_ns else "forward"
        return "reorder" if self.newest - stamp_ns <= self.reorder_ns else "reset"

    def observe(self, stamp_ns: int) -> str:
        """Classify and record one image stamp; returns its kind (one of STAMP_KINDS)."""
        kind = self.classify(stamp_ns)
        if kind in NEW_EPISODE:
            self.episode += 1
        if kind != "reorder":
            self.newest = int(stamp_ns)
        return kind

    def behind(self, stamp_ns: int) -> bool:
        """True when ``stamp_ns`` is far behind (more than ``reorder_ns``) the newest image:
        a message from before a reset that has not been seen yet, or a straggler."""
        return self.newest is not None and self.newest - stamp_ns > self.reorder_ns

    def restart(self) -> None:
        """Forget the newest stamp: the next image starts a new episode (``first``)."""
        self.newest = None
