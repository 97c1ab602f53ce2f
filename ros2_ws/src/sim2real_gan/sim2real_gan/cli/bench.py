"""``sim2real-gan bench``: backend x preset x resolution timings, with the CycleGAN baseline."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
from pathlib import Path

from sim2real_gan.cli.argtypes import non_negative_int, positive_int, positive_seconds, threads
from sim2real_gan.cli.export import _resolution

log = logging.getLogger("sim2real_gan.bench")


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _resolutions(text: str) -> list[tuple[int, int]]:
    """'256x256,1280x720' (W x H as cameras are named) -> [(H, W), ...]."""
    out = []
    for t in _csv(text):
        w, h = _resolution(t)
        out.append((h, w))
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark backends x presets x resolutions",
                       description="Time the engine alone and the full sensor_msgs/Image -> "
                       "translate -> sensor_msgs/Image path for each backend, preset and "
                       "resolution, beside PyTorch eager FP32 CycleGAN ResNet-9 (baseline).")
    p.add_argument("--backends", type=_csv, default=[],
                   help="comma list of onnxruntime-cpu, onnxruntime-cuda, torch-cpu, "
                   "torch-cuda, tensorrt-cuda (default: all that start here)")
    p.add_argument("--presets", type=_csv, default=["rt", "base"],
                   help="comma list of generator presets (default rt,base)")
    p.add_argument("--resolutions", type=_resolutions,
                   default=[(256, 256), (512, 512), (720, 1280), (1080, 1920)],
                   help="comma list of WxH (default 256x256,512x512,1280x720,1920x1080)")
    p.add_argument("--iters", type=positive_int, default=50, help="timed frames per cell (default 50)")
    p.add_argument("--warmup", type=non_negative_int, default=3, help="untimed frames first (default 3)")
    p.add_argument("--max-seconds", type=positive_seconds, default=10.0,
                   help="stop a cell's path after this long (>= 3 samples; default 10)")
    p.add_argument("--threads", type=threads, default=None,
                   help="CPU threads for onnxruntime/torch, 1..cores (default: usable cores)")
    p.add_argument("--batch", type=non_negative_int, default=0,
                   help="also time translate_batch of N frames (throughput path; default off)")
    p.add_argument("--stereo", action="store_true",
                   help="also time stereo pairs (docs/stereo.md): engine on a batch of 2 vs two "
                   "single calls, and the pair message path (pairs/s) beside mono frames/s")
    p.add_argument("--spin", action="store_true",
                   help="let onnxruntime worker threads busy-wait (default: they sleep)")
    p.add_argument("--model", type=Path, action="append", default=[], metavar="DIR",
                   help="time this exported artifact (repeatable; the table names it by its "
                   "folder) instead of random-weight --presets")
    p.add_argument("--skip-unavailable", action="store_true",
                   help="a --backends entry that cannot start here gets a 'skipped' line "
                   "saying why, instead of an error")
    p.add_argument("--no-baseline", action="store_true", help="skip the CycleGAN baseline")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: tiny preset, 64x64, 3 frames (for tests)")
    p.add_argument("--markdown", type=Path, default=None, help="also write a Markdown table")
    p.add_argument("--json", type=Path, default=None, help="also write all numbers as JSON")
    p.add_argument("--force", action="store_true",
                   help="replace existing --markdown / --json files")
    p.set_defaults(func=run)


def machine_line() -> str:
    """One line naming the machine, CPU count and load, for the results."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, load average "
            f"{load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}")


def run(args: argparse.Namespace) -> int:
    from sim2real_gan.benchmark import BenchConfig, run_benchmark
    from sim2real_gan.benchmark_table import format_table, rows_to_json
    from sim2real_gan.io.outputs import check_file_output

    for path, suffix in ((args.markdown, ".md"), (args.json, ".json")):
        if path is not None:  # before the (long) run
            check_file_output(path, "bench", args.force, suffix)
    cfg = BenchConfig(backends=args.backends, presets=args.presets,
                      resolutions=args.resolutions, warmup=args.warmup, iters=args.iters,
                      max_seconds=args.max_seconds, baseline=not args.no_baseline,
                      threads=args.threads, spin=args.spin, batch=args.batch,
                      models=_models(args.model), skip_unavailable=args.skip_unavailable,
                      stereo=args.stereo)
    if args.quick:
        cfg.presets, cfg.resolutions = ["tiny"], [(64, 64)]
        cfg.warmup, cfg.iters, cfg.max_seconds, cfg.min_iters = 1, 3, 1.0, 2
        cfg.peak_seconds = 0.2
    before = machine_line()
    rows, info = run_benchmark(cfg, progress=not args.quick)
    info["machine_before"], info["machine_after"] = before, machine_line()
    head = summary_lines(before, info)
    print("\n".join(head))
    print(format_table(rows))
    if args.markdown:
        skipped = "".join(f"- {line}\n" for line in head[1:])
        _write(args.markdown, f"{head[0]}\n\n{skipped}\n" + format_table(rows, markdown=True)
               + "\n")
    if args.json:
        _write(args.json, json.dumps(rows_to_json(rows, info), indent=2) + "\n")
    return 0


def _models(dirs: list[Path]) -> dict[str, Path]:
    """--model DIR ... -> {folder name: DIR}; each must be an artifact, names unique."""
    out: dict[str, Path] = {}
    for d in dirs:
        if not (d / "model.json").is_file():
            raise FileNotFoundError(f"--model {d}: not a model artifact (expected {d}/model.json; "
                                    f"make one with sim2real-gan export)")
        name = d.resolve().name
        if name in out:
            raise ValueError(f"--model {d}: two artifacts named {name!r}; rename one folder")
        out[name] = d
    return out


def summary_lines(machine: str, info: dict) -> list[str]:
    """The lines above the table: machine and devices with their measured matmul peaks, then
    one ``skipped BACKEND: why`` line per named backend that could not start."""
    peaks = ", ".join(f"{d} ({info['devices'].get(d, d)}) {g:.0f} GFLOP/s"
                      for d, g in info["peak_gflops"].items())
    return ([f"machine: {machine}; measured matmul peak: {peaks}"]
            + [f"skipped {b}: {why}" for b, why in info.get("skipped", {}).items()])


def _write(path: Path, text: str) -> None:
    """Write ``text`` atomically (checked by ``check_file_output`` before the run)."""
    from sim2real_gan.io.staging import atomic_path

    with atomic_path(path, replace=True) as built:
        built.write_text(text, encoding="utf-8")
