"""Built-in simulator -> rosbag2, timed (the demo's input).

The bag layout is the simulator's own (:func:`sim2real_gan.sim.writers.write_bag`); this
module only adds the timing of the simulator itself for the demo's throughput line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from sim2real_gan.sim.config import SimConfig, StereoConfig
from sim2real_gan.sim.simulator import EndoscopeSimulator, Frame
from sim2real_gan.sim.writers import progress as progress_bar
from sim2real_gan.sim.writers import write_bag


def simulate_to_bag(path: str | os.PathLike, frames: int = 120, width: int = 256,
                    height: int = 256, seed: int = 0, appearance: str = "sim",
                    ns: str = "/sim/camera", storage: str = "mcap", overwrite: bool = False,
                    progress: bool = False) -> float:
    """Simulate ``frames`` frames into a new bag (atomic); returns simulator frames/s."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    sim = EndoscopeSimulator(SimConfig(width=width, height=height, appearances=(appearance,)),
                             seed=seed)
    sim_s = 0.0

    def timed() -> Iterator[Frame]:
        nonlocal sim_s
        it = iter(sim.frames(frames))
        while True:
            t0 = time.perf_counter()
            frame = next(it, None)
            sim_s += time.perf_counter() - t0
            if frame is None:
                return
            yield frame

    write_bag(path, progress_bar(timed(), frames, progress), {appearance: ns},
              storage=storage, overwrite=overwrite)
    return frames / sim_s if sim_s > 0 else 0.0


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
    sim_s = 0.0

    def timed() -> Iterator:
        nonlocal sim_s
        it = iter(sim.stereo_frames(frames))
        while True:
            t0 = time.perf_counter()
            pair = next(it, None)
            sim_s += time.perf_counter() - t0
            if pair is None:
                return
            yield pair

    write_stereo_bag(path, progress_bar(timed(), frames, progress), {"sim": ns},
                     storage=storage)
    return frames / sim_s if sim_s > 0 else 0.0
