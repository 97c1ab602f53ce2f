"""GPU readiness check (issue #13 item 6; docs/benchmarks.md "GPU check"): one command that
simulates data, trains `base_footage`, exports, checks and benchmarks, and prints one table.

    bash scripts/gpu_check.sh                         # on a lent H100/H200, under 10 minutes
    GPU_CHECK_DRY_RUN=1 bash scripts/gpu_check.sh     # here: CPU, tiny sizes, same stages

Stages, each the project's own command in a subprocess (its output in OUT/gpu_check.log):
env (versions, GPU, providers) -> data (`sim2real-gan simulate` bags and tower-like footage
MP4s, in parallel) -> train (`train --config base_footage`, a few hundred steps; on time out
it gets SIGTERM and checkpoints) -> export -> cuda tests (tests/test_runtime_cuda.py) ->
check (each backend vs ONNX Runtime CPU FP32, frames A, B, A) -> bench (`bench --model` at
512x512 and 1920x1080 beside the CycleGAN ResNet-9 eager FP32 baseline). Without an
exported model the bench times random `base` weights. Writes OUT/gpu_check.md, .json, .log
and check.jpg.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gpu_check_report import Stage, report

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "sim2real_gan.cli.main"]
STEPS = [sys.executable, str(ROOT / "benchmarks" / "gpu_check_steps.py")]
GPU_BACKENDS = "torch-cuda,onnxruntime-cuda,tensorrt-cuda"


@dataclass
class Plan:
    """Sizes and budgets of one run (``gpu`` or the CPU ``dry`` run)."""

    sim_size: int          # sim bags: square frames, the model's working resolution
    footage: tuple[int, int]   # tower MP4 (W, H); loaded at real_size
    real_size: tuple[int, int]  # data.real.size (H, W)
    clips: int             # sim bags and footage files (in parallel)
    frames: int            # per clip
    steps: int
    batch: int
    workers: int
    segmenter_steps: int
    bench_sizes: str       # WxH list
    bench_backends: str
    bench_args: list[str]
    check_backends: str
    budget_s: float        # whole run
    train_cap_s: float
    extra_train: list[str] = field(default_factory=list)


GPU = Plan(sim_size=512, footage=(1024, 576), real_size=(512, 910), clips=6, frames=40,
           steps=300, batch=4, workers=8, segmenter_steps=100, bench_sizes="512x512,1920x1080",
           bench_backends=GPU_BACKENDS,
           bench_args=["--iters", "300", "--warmup", "10", "--max-seconds", "3"],
           check_backends="torch-cuda,onnxruntime-cuda", budget_s=480, train_cap_s=200,
           extra_train=["loss.segmenter_crop=128"])  # the segmenter trains on the CPU
DRY = Plan(sim_size=96, footage=(168, 96), real_size=(96, 168), clips=2, frames=4, steps=3,
           batch=2, workers=0, segmenter_steps=2, bench_sizes="64x64,112x64",
           bench_backends="onnxruntime-cpu,torch-cpu," + GPU_BACKENDS,
           bench_args=["--iters", "3", "--warmup", "1", "--max-seconds", "0.5", "--threads", "1"],
           check_backends="torch-cpu,torch-cuda,onnxruntime-cuda", budget_s=480,
           train_cap_s=200, extra_train=["threads=1", "loss.segmenter_crop=0"])


class Runner:
    """Runs stages against one deadline, appending their output to one log."""

    def __init__(self, log: Path, budget_s: float) -> None:
        self.log, self.deadline = log, time.monotonic() + budget_s
        self.stages: list[Stage] = []

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name: str, argvs: list[list[str]], cap_s: float, reserve_s: float = 0.0,
            note: str = "", cwd: Path | None = None, last_line: bool = False) -> Stage:
        """Run ``argvs`` in parallel; past min(cap, time left - reserve) each gets SIGTERM,
        then SIGKILL 60 s later. Returns the stage (rc: worst exit status). The note gets
        the stage's last output line when it did not end ok, or with ``last_line``."""
        timeout = min(cap_s, self.left() - reserve_s)
        if timeout < 5:
            return self.add(Stage(name, "skipped", 0.0, note="no time left"))
        print(f"gpu_check: {name} (up to {timeout:.0f} s)", flush=True)
        t0 = time.monotonic()
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"\n===== {name}: {' | '.join(' '.join(a) for a in argvs)}\n")
            out.flush()
            start = out.tell()
            procs = [subprocess.Popen(a, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
                     for a in argvs]
            rcs = [_wait(p, t0 + timeout) for p in procs]
            timed_out = any(rc is None for rc in rcs)
            rcs = [rc if rc is not None else _stop(p) for rc, p in zip(rcs, procs, strict=True)]
        rc = max(rcs, key=abs)
        result = "ok" if rc == 0 and not timed_out else (
            f"timed out (exit {rc})" if timed_out else f"failed (exit {rc})")
        if result != "ok" or last_line:
            note = "; ".join(n for n in (note, self._last_line(start)) if n)
        return self.add(Stage(name, result, time.monotonic() - t0, rc, note))

    def _last_line(self, offset: int) -> str:
        """The stage's last output line (a failure's error, pytest's summary), for notes."""
        with self.log.open("rb") as f:
            f.seek(offset)
            tail = f.read().decode("utf-8", "replace").splitlines()
        last = next((ln.strip() for ln in reversed(tail) if ln.strip()), "")
        return last.replace("|", "/")[:200]

    def add(self, stage: Stage) -> Stage:
        self.stages.append(stage)
        print(f"gpu_check: {stage.name}: {stage.result} in {stage.seconds:.1f} s", flush=True)
        return stage


def _wait(p: subprocess.Popen, until: float) -> int | None:
    try:
        return p.wait(timeout=max(0.0, until - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None


def _stop(p: subprocess.Popen) -> int:
    """SIGTERM (the trainer checkpoints and exits 143), SIGKILL if it lingers."""
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def _data(r: Runner, plan: Plan, work: Path) -> tuple[list[Path], list[Path]]:
    sims = [work / f"sim_{i}" for i in range(plan.clips)]
    films = [work / f"footage_{i}.mp4" for i in range(plan.clips)]
    fw, fh = plan.footage
    argvs = [[*CLI, "simulate", str(s), "--frames", str(plan.frames), "--seed", str(100 + i),
              "--width", str(plan.sim_size), "--height", str(plan.sim_size)]
             for i, s in enumerate(sims)]
    argvs += [[sys.executable, "-m", "sim2real_gan.sim.gazebo_like", "footage", str(f),
               "--frames", str(plan.frames), "--seed", str(200 + i), "--width", str(fw),
               "--height", str(fh)] for i, f in enumerate(films)]
    r.run("data", argvs, 120, reserve_s=240, note=(
        f"{plan.clips} sim bags x {plan.frames} frames at {plan.sim_size}x{plan.sim_size}, "
        f"{plan.clips} tower-like MP4s x {plan.frames} frames at {fw}x{fh}"))
    return sims, films


def _train(r: Runner, plan: Plan, work: Path, sims: list[Path], films: list[Path]) -> Path:
    run_dir = work / "run"
    h, w = plan.real_size
    sets = [f"data.sim.paths=[{', '.join(map(str, sims))}]",
            f"data.real.paths=[{', '.join(map(str, films))}]",
            f"data.sim.size=[{plan.sim_size}, {plan.sim_size}]", f"data.real.size=[{h}, {w}]",
            "data.real.stride=1", f"data.crop=[{plan.sim_size}, {plan.sim_size}]",
            f"data.batch_size={plan.batch}", f"data.workers={plan.workers}",
            f"steps={plan.steps}", f"loss.segmenter_steps={plan.segmenter_steps}",
            f"log_every={max(1, plan.steps // 10)}", f"ckpt_every={plan.steps}",
            f"image_every={plan.steps}", "progress=false", *plan.extra_train]
    argv = [*CLI, "train", "--config", "base_footage", "--out", str(run_dir)]
    for s in sets:
        argv += ["--set", s]
    note = f"base_footage, {plan.steps} steps, batch {plan.batch}"
    st = r.run("train", [argv], plan.train_cap_s, reserve_s=200, note=note)
    if st.result.startswith("failed") and plan.workers:  # e.g. DataLoader workers' shm
        r.run("train again", [[*argv, "--force", "--set", "data.workers=0"]],
              plan.train_cap_s, reserve_s=200, note=note + ", DataLoader workers 0")
    return run_dir


def _export(r: Runner, run_dir: Path, work: Path) -> Path | None:
    latest = run_dir / "checkpoints" / "latest"
    if not latest.is_file():
        r.add(Stage("export", "skipped", 0.0, note="no checkpoint"))
        return None
    art = work / "base_footage"
    ckpt = run_dir / "checkpoints" / latest.read_text(encoding="utf-8").strip()
    st = r.run("export", [[*CLI, "export", str(ckpt), str(art), "--seeds", "2"]], 120,
               reserve_s=150, note=f"{ckpt.name} -> ONNX artifact")
    return art if st.rc == 0 else None


def _check_and_bench(r: Runner, plan: Plan, art: Path | None, work: Path, out: Path) -> None:
    tests = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
             "tests/test_runtime_cuda.py"]
    r.run("cuda tests", [tests], 150, reserve_s=130, cwd=ROOT, last_line=True)
    if art is not None:
        r.run("check", [[*STEPS, "check", str(art), str(work / "check.json"),
                         "--sizes", plan.bench_sizes,
                         "--backends", _startable(plan.check_backends, work),
                         "--strip", str(out / "check.jpg")]], 120, reserve_s=100)
    model = ["--model", str(art)] if art is not None else ["--presets", "base"]
    r.run("bench", [[*CLI, "bench", *model, "--backends", plan.bench_backends,
                     "--skip-unavailable", "--resolutions", plan.bench_sizes, *plan.bench_args,
                     "--json", str(work / "bench.json")]], 200,
          note="" if art is not None else "random base weights (no exported model)")


def _startable(backends: str, work: Path) -> str:
    """The check's backends that the env stage found startable (others are in the bench's
    skipped lines)."""
    env = _load(work / "env.json") or {}
    gone = {b for b, why in env.get("unavailable", {}).items() if why}
    return ",".join(b for b in backends.split(",") if b not in gone)


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for gpu_check.{md,json,log}")
    p.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes, a few steps")
    p.add_argument("--keep-work", action="store_true", help="keep the data, run and model")
    args = p.parse_args(argv)
    plan = DRY if args.dry_run else GPU
    args.out.mkdir(parents=True, exist_ok=True)
    outputs = [args.out / n for n in ("gpu_check.md", "gpu_check.json", "gpu_check.log")]
    taken = [str(o) for o in outputs if o.exists()]
    if taken:
        print(f"gpu_check: {', '.join(taken)} exist; choose an empty --out", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    r = Runner(outputs[2], plan.budget_s)
    t0 = time.monotonic()
    try:
        r.run("env", [[*STEPS, "env", str(work / "env.json")]], 60)
        sims, films = _data(r, plan, work)
        run_dir = _train(r, plan, work, sims, films)
        art = _export(r, run_dir, work)
        _check_and_bench(r, plan, art, work, args.out)
    finally:
        docs = {k: _load(work / f"{k}.json") for k in ("env", "check", "bench")}
        doc = {"mode": "dry run" if args.dry_run else "gpu", "plan": asdict(plan),
               "stages": [asdict(s) for s in r.stages], **docs,
               "train_log": _train_lines(outputs[2]), "seconds": time.monotonic() - t0}
        outputs[1].write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        text = report(doc)
        outputs[0].write_text(text, encoding="utf-8")
        print(text)
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"gpu_check: work folder kept: {work}")
    return 0 if all(s.result in ("ok", "skipped") for s in r.stages) else 1


def _train_lines(log: Path) -> list[str]:
    """The trainer's summary lines (steps and time, stop) from the combined log."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    keys = ("trained steps", "stopped by", "step ", "semantic", "off")
    return [ln for ln in lines if "sim2real_gan.train" in ln and any(k in ln for k in keys)]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
