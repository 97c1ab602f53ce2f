"""The GPU check's report (benchmarks/gpu_check.py): one Markdown text from the run's JSON.

The speed table has one row per backend x model x resolution of the bench, with the floor
(model FLOPs over the matmul peak measured in the same run), p50/p99 latency of the engine
(network alone, inputs on the device) and of the message path (sensor_msgs/Image in and
out), the speed-up over the CycleGAN ResNet-9 eager FP32 baseline at the same resolution,
and the design's GPU target where one applies (docs/ARCHITECTURE.md "Performance").
"""

from __future__ import annotations

from dataclasses import dataclass

#: fps the `base` model must reach on a GPU, in FP16, by (width, height); p99 <= 1.5 x p50.
TARGET_FPS = {(512, 512): 300.0, (1920, 1080): 60.0}
P99_OVER_P50 = 1.5
BASELINE = "cyclegan"

SPEED_HEADER = ["backend", "model", "precision", "resolution", "GMAC", "floor ms",
                "engine p50 ms", "engine p99 ms", "engine fps", "msg p50 ms", "msg p99 ms",
                "msg fps", "x baseline", "target (engine / msg)"]


@dataclass
class Stage:
    """One stage of the run: ``result`` "ok", "skipped", "failed (exit N)", "timed out"."""

    name: str
    result: str
    seconds: float
    rc: int | None = None
    note: str = ""


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def verdict(row: dict) -> str:
    """'met' / 'missed (...)' against :data:`TARGET_FPS` for a non-baseline CUDA row at a
    target resolution, for the engine and the message path; '-' elsewhere."""
    goal = TARGET_FPS.get((row["width"], row["height"]))
    if goal is None or row["preset"] == BASELINE or not row["backend"].endswith("cuda"):
        return "-"

    def one(t: dict) -> str:
        why = [f"{t['fps']:.0f} < {goal:.0f} fps"] if t["fps"] < goal else []
        ratio = t["p99_ms"] / t["p50_ms"]
        why += [f"p99 {ratio:.2f}x p50"] if ratio > P99_OVER_P50 else []
        return "met" if not why else "missed (" + ", ".join(why) + ")"

    return f"{goal:.0f} fps: {one(row['engine'])} / {one(row['message'])}"


def speed_table(rows: list[dict]) -> str:
    """Markdown table of the bench's JSON rows (``rows_to_json``)."""
    lines = ["| " + " | ".join(SPEED_HEADER) + " |", "|" + "---|" * len(SPEED_HEADER)]
    for r in rows:
        e, m = r["engine"], r["message"]
        x = r.get("speedup_vs_baseline")
        cells = [r["backend"], r["preset"], r.get("precision") or "-",
                 f"{r['width']}x{r['height']}", f"{r['gmac']:.3g}", _num(r.get("floor_ms"), ".3g"),
                 f"{e['p50_ms']:.2f}", f"{e['p99_ms']:.2f}", f"{e['fps']:.1f}",
                 f"{m['p50_ms']:.2f}", f"{m['p99_ms']:.2f}", f"{m['fps']:.1f}",
                 "-" if x is None else f"{x:.1f}x", verdict(r)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _stages(stages: list[dict]) -> list[str]:
    out = ["| stage | result | wall s | notes |", "|---|---|---|---|"]
    out += [f"| {s['name']} | {s['result']} | {s['seconds']:.1f} | {s['note']} |" for s in stages]
    return out


def _env(env: dict | None) -> list[str]:
    if not env:
        return ["environment: not recorded (the env stage failed)"]
    return [f"- GPU: {env.get('gpu') or 'none'} ({env.get('nvidia_smi') or '-'})",
            f"- Python {env['python']}, torch {env['torch']} (CUDA {env.get('torch_cuda')}, "
            f"cuDNN {env.get('cudnn')}; TF32 convolutions {env['tf32_conv']}, TF32 matmul "
            f"{env['tf32_matmul']}), onnxruntime {env['onnxruntime']} "
            f"{env['ort_providers']}"]


def _check(check: dict | None) -> list[str]:
    if not check:
        return ["not run (no exported model, or the stage failed)"]
    out = [f"Exported model vs {check['reference']} on simulator frames A, B, A (8-bit "
           "levels; 'follows input': B's output differs from A's like the references do).", "",
           "| backend | resolution | mean diff | p99 diff | max diff | follows input |",
           "|---|---|---|---|---|---|"]
    for r in check["rows"]:
        if "error" in r:
            out.append(f"| {r['backend']} | {r['resolution']} | failed: {r['error']} | | | |")
        else:
            out.append(f"| {r['backend']} | {r['resolution']} | {r['mean']:.3f} | "
                       f"{r['p99']:.0f} | {r['max']} | {'yes' if r['follows_input'] else 'NO'} |")
    return out


def report(doc: dict) -> str:
    """The whole report: environment, stages, training lines, check, speed table."""
    bench = doc.get("bench") or {}
    info = bench.get("info", {})
    dry = doc["mode"] == "dry run"
    lines = ["# GPU check", "",
             "**Dry run: CPU, tiny sizes, a few steps: checks the stages, measures nothing.**"
             if dry else "Lent GPU run of scripts/gpu_check.sh.", "", *_env(doc.get("env")), "",
             *_stages(doc["stages"]), "", f"Total {doc['seconds']:.0f} s.", "", "## Training", ""]
    lines += [f"    {ln}" for ln in doc.get("train_log") or ["(no trainer lines)"]]
    lines += ["", "## Check", "", *_check(doc.get("check")), "", "## Speed", ""]
    peaks = ", ".join(f"{d} ({info.get('devices', {}).get(d, d)}) {g:.0f} GFLOP/s"
                      for d, g in info.get("peak_gflops", {}).items())
    lines += [f"Measured matmul peak: {peaks or '-'} (FP16 8192^3 on CUDA, FP32 2048^3 on "
              "CPU); floor = model FLOPs / that peak.", ""]
    lines += [f"- skipped {b}: {why}" for b, why in info.get("skipped", {}).items()]
    lines += ["", speed_table(bench.get("rows", [])) if bench else "bench: not run", ""]
    return "\n".join(lines)
