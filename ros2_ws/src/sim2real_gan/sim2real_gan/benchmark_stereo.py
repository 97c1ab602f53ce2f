"""The stereo columns of ``sim2real-gan bench --stereo``: a pair per call, beside mono frames.

For each cell (backend x model x resolution per eye) three paths are timed *interleaved*
(one call of each in turn, so all three see the same load on a shared machine):

- ``pair_engine``: the network once on a (2,3,H,W) batch (both eyes, one style);
- ``two_singles``: the network twice on (1,3,H,W) (what a per-eye loop would do);
- ``pair_message``: the stereo message path of the node and ``translate-bag --stereo`` with
  their defaults: two ``sensor_msgs/Image`` decoded, one ``translate_batch``
  (:class:`~sim2real_gan.pipeline.stereo_step.StereoTranslator`), the right eye rebuilt from
  the left translation with both eyes' 32FC1 depth (a slanted plane, 1-3 px disparity;
  :mod:`~sim2real_gan.pipeline.stereo_reproject`), two Images encoded;
  ``pair_message.fps`` is pairs/s.

Engine inputs are normalised host arrays through ``Backend.run`` (on CUDA that includes the
host-device copies).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .benchmark import BenchConfig, Timing


@dataclass
class StereoTimes:
    """Per-call timings of a cell's stereo paths (see the module docstring)."""

    pair_engine: Timing
    two_singles: Timing
    pair_message: Timing

    @property
    def batch_ratio(self) -> float:
        """Batch-2 engine call over two single calls (< 1: the batch is cheaper)."""
        return self.pair_engine.p50_ms / self.two_singles.p50_ms


def time_interleaved(fns: dict[str, Callable[[], object]], cfg: BenchConfig
                     ) -> dict[str, Timing]:
    """Like ``benchmark.time_calls`` for several paths at once, one call of each in turn."""
    for fn in fns.values():
        for _ in range(min(cfg.warmup, 2)):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, float] = dict.fromkeys(fns, 0.0)
    first = next(iter(fns))
    start = time.perf_counter()
    while len(samples[first]) < cfg.iters:
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            samples[name].append(time.perf_counter() - t0)
            cpu[name] += time.process_time() - c0
        n = len(samples[first])
        if n >= cfg.min_iters and time.perf_counter() - start > cfg.max_seconds * len(fns):
            break
    out = {}
    for name, xs in samples.items():
        ms = np.array(xs) * 1e3
        out[name] = Timing(len(xs), float(np.percentile(ms, 50)), float(np.percentile(ms, 99)),
                           cpu[name] * 1e3 / len(xs))
    return out


def _engine(translator, h: int, w: int, batch: int, calls: int) -> Callable[[], object]:
    """``calls`` network calls of ``batch`` frames on prepared host arrays."""
    plan = translator._plan(h, w)
    m = translator.manifest
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch, 3, plan.run_h, plan.run_w)).astype(np.float32)
    s = translator._styles(batch)
    aux = (rng.random((batch, m.aux_channels, plan.run_h, plan.run_w), dtype=np.float32)
           if m.aux_channels else None)

    def run() -> object:
        for _ in range(calls):
            out = translator.backend.run(x, s, aux)
        return out

    return run


def _pair_message(translator, rgb: np.ndarray) -> Callable[[], object]:
    """Two Image messages (+ depth, camera_info) in, one ``translate_batch``, the right eye
    from the left, two Image messages out."""
    from types import SimpleNamespace

    from sim2real_gan.io import image_msg, make_header
    from sim2real_gan.pipeline.stereo_reproject import RightFromLeft
    from sim2real_gan.pipeline.stereo_step import Eye, StereoTranslator

    h, w = rgb.shape[:2]
    fx_b = 0.5 * w * 0.005  # fx ~ w/2 (90 deg field), 5 mm baseline
    z = np.linspace(fx_b / 3.0, fx_b, w, dtype=np.float32)[None, :].repeat(h, 0)
    step = StereoTranslator(translator.translate_batch, right_from_left=RightFromLeft(
        {"left": "depth", "right": "depth"}))
    msgs = {e: image_msg(rgb, "rgb8", make_header(1, f"{e}_optical_frame"))
            for e in ("left", "right")}
    p = {"left": [w / 2, 0, w / 2, 0, 0, w / 2, h / 2, 0, 0, 0, 1, 0],
         "right": [w / 2, 0, w / 2, -fx_b, 0, w / 2, h / 2, 0, 0, 0, 1, 0]}
    eyes = {e: Eye(m, {"depth": image_msg(z, "32FC1", m.header)}, SimpleNamespace(p=p[e]),
                   f"/{e}/image_raw", None) for e, m in msgs.items()}

    def pair() -> object:
        fields = step.translate_pair(eyes, 1)
        return [image_msg(np.asarray(f["data"]).reshape(rgb.shape), "rgb8", msgs[e].header)
                for e, f in fields.items()]

    return pair


def measure_stereo(translator, rgb: np.ndarray, cfg: BenchConfig) -> StereoTimes:
    """The three stereo paths of one cell, interleaved; ``rgb`` (H,W,3) one eye's frame."""
    h, w = rgb.shape[:2]
    t = time_interleaved({"pair": _engine(translator, h, w, 2, 1),
                          "singles": _engine(translator, h, w, 1, 2),
                          "msg": _pair_message(translator, rgb)}, cfg)
    return StereoTimes(t["pair"], t["singles"], t["msg"])


STEREO_HEADER = ["pair engine ms (B=2)", "2 x single ms", "B=2 / 2 singles", "B=2 CPU ms",
                 "2 x single CPU ms", "pair msg p50 ms", "pairs/s (msg)"]


def stereo_cells(s: StereoTimes | None) -> list[str]:
    """A row's stereo columns ("-" where not measured, e.g. the baseline)."""
    if s is None:
        return ["-"] * len(STEREO_HEADER)
    return [f"{s.pair_engine.p50_ms:.1f}", f"{s.two_singles.p50_ms:.1f}",
            f"{s.batch_ratio:.2f}", f"{s.pair_engine.cpu_ms:.1f}", f"{s.two_singles.cpu_ms:.1f}",
            f"{s.pair_message.p50_ms:.1f}", f"{s.pair_message.fps:.1f}"]
