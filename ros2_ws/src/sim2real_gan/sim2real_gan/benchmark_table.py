"""The tables ``sim2real-gan bench`` prints and writes (text, Markdown, JSON).

Columns beyond the timings: ``floor ms`` (model FLOPs over the matmul peak measured in the
same run: no engine can beat it), ``% of peak`` (the floor over the engine's p50), and
``x baseline`` (the baseline's engine p50 over the row's, at the same resolution on the same
device: how much faster than PyTorch eager FP32 CycleGAN ResNet-9, frame by frame).
"""

from __future__ import annotations

import math
from dataclasses import asdict

from .benchmark import BASELINE, BenchRow

HEADER = ["backend", "preset", "resolution", "precision", "GMAC", "floor ms", "engine fps",
          "engine p50 ms", "engine p99 ms", "engine CPU ms", "msg fps", "msg p50 ms",
          "msg p99 ms", "msg CPU ms", "msg overhead", "% of peak", "x baseline", "n"]


def _device(backend: str) -> str:
    return backend.rsplit("-", 1)[-1]


def speedups(rows: list[BenchRow]) -> list[float]:
    """Per row: baseline engine p50 / row engine p50 at the same resolution and device
    (NaN where the run has no such baseline row)."""
    base = {(_device(r.backend), r.height, r.width): r.engine.p50_ms for r in rows
            if r.backend.startswith(BASELINE[0]) and r.preset == BASELINE[1]}
    return [base.get((_device(r.backend), r.height, r.width), math.nan) / r.engine.p50_ms
            for r in rows]


def _num(v: float, fmt: str) -> str:
    return "-" if math.isnan(v) else format(v, fmt)


def row_cells(r: BenchRow, speedup: float = math.nan) -> list[str]:
    """One row's cells, in :data:`HEADER` order."""
    return [r.backend, r.preset, f"{r.width}x{r.height}", r.precision or "-", f"{r.gmac:.3g}",
            _num(r.floor_ms, ".3g"), f"{r.engine.fps:.1f}", f"{r.engine.p50_ms:.2f}",
            f"{r.engine.p99_ms:.2f}", f"{r.engine.cpu_ms:.1f}", f"{r.message.fps:.1f}",
            f"{r.message.p50_ms:.2f}", f"{r.message.p99_ms:.2f}", f"{r.message.cpu_ms:.1f}",
            f"{100 * r.overhead:+.0f}%", f"{100 * r.peak_fraction:.1f}%",
            _num(speedup, ".1f") + ("x" if not math.isnan(speedup) else ""),
            f"{r.engine.n}/{r.message.n}"]


def format_table(rows: list[BenchRow], markdown: bool = False) -> str:
    """Plain aligned text, or a Markdown table."""
    header = list(HEADER)
    body = [row_cells(r, s) for r, s in zip(rows, speedups(rows), strict=True)]
    if any(r.batch for r in rows):
        header.insert(-1, f"batch-{rows[0].batch} fps")
        for r, c in zip(rows, body, strict=True):
            c.insert(-1, f"{r.batch_fps:.1f}")
    if any(r.stereo for r in rows):
        from .benchmark_stereo import STEREO_HEADER, stereo_cells

        header[-1:-1] = STEREO_HEADER
        for r, c in zip(rows, body, strict=True):
            c[-1:-1] = stereo_cells(r.stereo)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c) + " |" for c in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h)
              for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header)] + [fmt.format(*c) for c in body])


def _strict(obj: object) -> object:
    """NaN / infinity (a number not measured) -> None, so the document is strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    return obj


def rows_to_json(rows: list[BenchRow], info: dict) -> dict:
    """All numbers of a run: ``info`` (peaks, devices, skipped backends, config) and rows;
    a number not measured (no baseline at that size, no batch path) is null."""
    return _strict({"info": info, "rows": [
        {**{k: v for k, v in asdict(r).items() if k not in ("engine", "message")},
         "engine": {**asdict(r.engine), "fps": r.engine.fps},
         "message": {**asdict(r.message), "fps": r.message.fps},
         "overhead": r.overhead, "floor_ms": r.floor_ms, "speedup_vs_baseline": s}
        for r, s in zip(rows, speedups(rows), strict=True)]})
