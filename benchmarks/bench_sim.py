"""Simulator throughput: frames/s with every output (RGB, labels, depth, UV, flow + validity).

Prints Markdown tables (paste into docs/benchmarks.md, "Simulator"):

    .venv/bin/python benchmarks/bench_sim.py                      # 256x256 and 640x512
    .venv/bin/python benchmarks/bench_sim.py --sizes 128x128 --frames 30 --repeats 1

Each cell streams ``--frames`` frames from ``EndoscopeSimulator.frames()`` (stereo rows:
pairs from ``stereo_frames()``, both eyes with disparity) after a warm-up, ``--repeats``
times over 3 scene seeds; it reports the best and median wall-clock rate and the rate in
process CPU time (less sensitive to other jobs on a shared machine). The stage table times
one ray cast, flow, and each shader on their own (best of several runs). OpenCV runs on
``--threads`` threads (default 1: the simulator itself is single-threaded numpy).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
from sim2real_gan.sim.alloc import retain_freed_memory
from sim2real_gan.sim.config import SimConfig, StereoConfig
from sim2real_gan.sim.flow import forward_flow
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.stereo import disparity

MODES = {"sim": ("sim",), "real": ("real",), "sim+real": ("sim", "real"),
         "stereo sim (pairs)": ("sim",), "stereo real (pairs)": ("real",)}
SEEDS = (1, 2, 3)


def _size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def machine() -> str:
    load = os.getloadavg()
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"numpy {np.__version__}, OpenCV {cv2.__version__}, load average "
            f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}")


def stream_rate(width: int, height: int, apps: tuple[str, ...], frames: int,
                repeats: int, stereo: bool = False) -> tuple[float, float, float]:
    """(best wall fps, median wall fps, best CPU-time fps) streaming frames with flow
    (``stereo``: stereo pairs per second)."""
    walls, cpus = [], []
    for _ in range(repeats):
        for seed in SEEDS:
            cfg = SimConfig(width=width, height=height, appearances=apps,
                            stereo=StereoConfig() if stereo else None)
            sim = EndoscopeSimulator(cfg, seed)
            it = sim.stereo_frames(None) if stereo else sim.frames(None)
            for _ in range(3):  # warm-up: lazy textures, caches
                next(it)
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(frames):
                next(it)
            walls.append(frames / (time.perf_counter() - w0))
            cpus.append(frames / max(time.process_time() - c0, 1e-9))
    return max(walls), statistics.median(walls), max(cpus)


def best_ms(fn: Callable[[], object], runs: int = 5, inner: int = 10) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return min(times) * 1e3


def _stage_cells(sim: EndoscopeSimulator) -> dict[str, Callable[[], object]]:
    st0, st1, st2 = sim.state(10), sim.state(11), sim.state(12)
    g0, g1 = sim.raycaster.cast(st0, st1), sim.raycaster.cast(st1, st2)
    cfg = sim.config
    right = EndoscopeSimulator(SimConfig(width=cfg.width, height=cfg.height,
                                         stereo=StereoConfig()), sim.seed)
    gl, gr = right.geometry(10, "left"), right.geometry(10, "right")
    kl, kr = right.eyes[0].K, right.eyes[1].K
    return {
        "scene poses": lambda: sim.scene.state(0.5),
        "ray cast (+ normals, UV, labels, next positions)": lambda: sim.raycaster.cast(st0, st1),
        "flow + validity": lambda: forward_flow(g0, g1, sim.config.near_m),
        "shade sim": lambda: sim.render(10, g0, "sim"),
        "shade real": lambda: sim.render(10, g0, "real"),
        "stereo: disparity + validity": lambda: disparity(gl, gr, kl, kr, 0.005, cfg.near_m),
    }


def stages(width: int, height: int) -> dict[str, float]:
    """Best-of milliseconds of each stage for one frame (mean over seeds)."""
    out: dict[str, list[float]] = {}
    for seed in SEEDS:
        cfg = SimConfig(width=width, height=height, appearances=("sim", "real"))
        for name, fn in _stage_cells(EndoscopeSimulator(cfg, seed)).items():
            out.setdefault(name, []).append(best_ms(fn))
    return {k: float(np.mean(v)) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="256x256,640x512", help="comma list of WxH")
    ap.add_argument("--frames", type=int, default=60, help="timed frames per run (default 60)")
    ap.add_argument("--repeats", type=int, default=2, help="runs per seed (default 2)")
    ap.add_argument("--default-malloc", action="store_true",
                    help="do not call sim.alloc.retain_freed_memory() (glibc defaults)")
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1)")
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    tuned = False if args.default_malloc else retain_freed_memory()
    sizes = [_size(s) for s in args.sizes.split(",") if s.strip()]
    print(f"machine: {machine()}")
    print(f"allocator: {'retain_freed_memory()' if tuned else 'glibc defaults'}, "
          f"OpenCV threads: {cv2.getNumThreads()}\n")
    print("| size | rendering | frames/s best (wall) | median (wall) | frames/s (CPU time) |")
    print("|---|---|---:|---:|---:|")
    for w, h in sizes:
        for name, apps in MODES.items():
            frames = args.frames if w * h <= 256 * 256 else max(10, args.frames // 3)
            best, med, cpu = stream_rate(w, h, apps, frames, args.repeats,
                                         stereo=name.startswith("stereo"))
            print(f"| {w}x{h} | {name} | {best:.1f} | {med:.1f} | {cpu:.1f} |", flush=True)
    print("\n| size | stage | ms per frame (best of 5) |")
    print("|---|---|---:|")
    for w, h in sizes:
        for name, ms in stages(w, h).items():
            print(f"| {w}x{h} | {name} | {ms:.2f} |", flush=True)
    print(f"\nafter: {machine()}")


if __name__ == "__main__":
    main()
