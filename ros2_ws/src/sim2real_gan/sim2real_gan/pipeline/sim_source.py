"""Built-in simulator -> rosbag2, timed (the demo's input).

The bag layout is the simulator's own (:func:`sim2real_gan.sim.writers.write_bag`); this
module only adds the timing of the simulator itself for the demo's throughput line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from sim2real_gan.sim.config import SimConfig, StereoConfig
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.writers import progress as progress_bar
from sim2real_gan.sim.writers import write_bag

T = TypeVar("T")


class _Clock:
    """Seconds spent inside the simulator while a writer pulls frames from it."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def timed(self, frames: Iterable[T]) -> Iterator[T]:
        it = iter(frames)
        while True:
            t0 = time.perf_counter()
            item = next(it, None)
            self.seconds += time.perf_counter() - t0
            if item is None:
                return
            yield item

    def rate(self, n: int) -> float:
        """``n`` items per simulator second (0 when nothing was timed)."""
        return n / self.seconds if self.seconds > 0 else 0.0


def simulate_to_bag(path: str | os.PathLike, frames: int = 120, width: int = 256,
                    height: int = 256, seed: int = 0, appearance: str = "sim",
                    ns: str = "/sim/camera", storage: str = "mcap", overwrite: bool = False,
                    progress: bool = False) -> float:
    """Simulate ``frames`` frames into a new bag (atomic); returns simulator frames/s."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    sim = EndoscopeSimulator(SimConfig(width=width, height=height, appearances=(appearance,)),
                             seed=seed)
    clock = _Clock()
    write_bag(path, progress_bar(clock.timed(sim.frames(frames)), frames, progress),
              {appearance: ns}, storage=storage, overwrite=overwrite)
    return clock.rate(frames)


def simulate_stereo_to_bag(path: str | os.PathLike, frames: int = 120, width: int = 256,
                           height: int = 256, seed: int = 0, baseline_m: float = 0.005,
                           ns: str = "/sim/camera", storage: str = "mcap",
                           progress: bool = False) -> float:
    """Simulate ``frames`` stereo pairs (``<ns>/left/*``, ``<ns>/right/*``, sim appearance)
    into a new bag (atomic); returns simulator pairs/s."""
    from sim2real_gan.sim.stereo_writers import write_stereo_bag

    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    cfg = SimConfig(width=width, height=height, appearances=("sim",),
                    stereo=StereoConfig(baseline_m=baseline_m))
    sim = EndoscopeSimulator(cfg, seed=seed)
    clock = _Clock()
    write_stereo_bag(path, progress_bar(clock.timed(sim.stereo_frames(frames)), frames, progress),
                     {"sim": ns}, storage=storage)
    return clock.rate(frames)
