"""Training runs a user can trust: ``--resume RUN`` restores the run's own recipe, stop
signals checkpoint and exit 130/143 with the resume command, bad recipes fail with one line
and exit 2 before anything is written, recordings without flow/UV/labels still train."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.cli.main import main

SMALL = ["data.sim.seeds=[0]", "data.sim.frames=3", "data.sim.width=32", "data.sim.height=32",
         "data.real.seeds=[0]", "data.real.frames=2", "data.real.width=32",
         "data.real.height=32", "data.crop=[32,32]", "data.batch_size=1", "progress=false",
         "threads=1", "log_every=1", "image_every=1000"]
REPO = Path(__file__).parents[1]


def _sets(overrides: list[str]) -> list[str]:
    return [a for ov in overrides for a in ("--set", ov)]


def _latest(run: Path) -> Path:
    return run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()


def _launch(args: list[str], launcher: tuple[str, ...] = ("-m", "training.train")
            ) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, *launcher, *args], stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True, env=env, cwd=REPO,
                            preexec_fn=_default_signals)


def _default_signals() -> None:
    """The child starts with default dispositions even when this test runs as a background
    job (where SIGINT is inherited as ignored, and stays ignored by design)."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


def _wait_for(proc: subprocess.Popen, text: str) -> list[str]:
    """Read the child's log lines until one contains ``text`` (fails if it exits first)."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if text in line:
            return lines
    pytest.fail(f"process ended (rc {proc.wait()}) before logging {text!r}:\n{''.join(lines)}")


def test_resume_restores_the_runs_recipe_and_applies_a_set(tmp_path: Path, caplog,
                                                           monkeypatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    args = ["train", "--config", "tiny", "--steps", "2", "--out", "run",
            *_sets([*SMALL, "loss.structure=0.5", "data.sim.cache=cache", "ckpt_every=1"])]
    assert main(args) == 0
    monkeypatch.chdir(tmp_path / "b")  # resume from elsewhere: relative paths still the run's
    caplog.set_level("INFO", logger="sim2real_gan.train")
    assert main(["train", "--resume", "../a/run", "--steps", "3", "--set", "log_every=3"]) == 0
    state = json.loads((_latest(tmp_path / "a" / "run") / "trainer_state.json").read_text())
    cfg = state["config"]
    assert state["step"] == 3 and cfg["steps"] == 3 and cfg["log_every"] == 3
    assert cfg["loss"]["structure"] == 0.5 and cfg["data"]["crop"] == [32, 32]  # not tiny's
    assert cfg["data"]["sim"]["cache"] == str(tmp_path / "a" / "cache")
    assert not (tmp_path / "b" / "cache").exists() and not list((tmp_path / "b").iterdir())
    assert "resume: log_every=3 (the run had 1)" in caplog.text
    assert "resume: steps=3 (the run had 2)" in caplog.text
    assert "at step 2" in caplog.text
    caplog.clear()
    assert main(["train", "--resume", str(tmp_path / "a" / "run"), "--config", "tiny"]) == 2
    assert "drop --config" in caplog.text
    assert main(["train", "--resume", str(tmp_path / "a" / "run")]) == 2  # already at 3 of 3
    assert "raise it to train further" in caplog.text


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_stop_signal_checkpoints_exits_and_resume_continues(tmp_path: Path, caplog,
                                                            sig: signal.Signals) -> None:
    run = tmp_path / "run"
    proc = _launch(["--config", "tiny", "--out", str(run), "--steps", "100000",
                    *_sets([*SMALL, "ckpt_every=100000"])])
    try:
        _wait_for(proc, "step 2/100000")
        proc.send_signal(sig)
        rest = proc.stderr.read()
        rc = proc.wait(timeout=120)
    finally:
        proc.kill()
    assert rc == 128 + sig, rest
    assert "Traceback" not in rest
    step = int(_latest(run).name.split("_")[1])
    assert step >= 2 and len(list((run / "checkpoints").glob("step_*"))) == 1
    resume = [ln for ln in rest.splitlines() if "resume with:" in ln]
    assert len(resume) == 1 and resume[0].endswith(f"python -m training.train --resume {run}")
    assert f"stopped by {sig.name} at step {step}" in resume[0]
    if sig == signal.SIGTERM:
        caplog.set_level("INFO", logger="sim2real_gan.train")
        assert main(["train", "--resume", str(run), "--steps", str(step + 1)]) == 0
        assert f"at step {step}" in caplog.text and _latest(run).name == f"step_{step + 1:07d}"


def test_stop_signal_before_training_leaves_nothing(tmp_path: Path) -> None:
    run = tmp_path / "new" / "run"
    proc = _launch(["--config", "tiny", "--out", str(run),
                    *_sets([*SMALL, "loss.semantic=1", "loss.segmenter=auto-sim",
                            "loss.segmenter_steps=1000000"])])
    try:
        _wait_for(proc, "training the frozen segmenter")
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        rc = proc.wait(timeout=120)
    finally:
        proc.kill()
    assert rc == 143 and "Traceback" not in rest
    assert "stopped by SIGTERM before training started; nothing was written" in rest
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("override", "message"), [
    ("data.crop=[64,64]", "data.crop [64, 64] is larger than the frames of data.sim"),
    ("optim.lr=1", "unknown key(s) ['lr']"),
    ("steps=many", "config steps: expected int, got 'many'"),
    ("loss.temporal=-1", "loss.temporal: expected a finite number >= 0, got -1.0"),
    ("data.real={kind: video, paths: [no_such.mp4]}", "data.real.paths: no_such.mp4 does not "
                                                       "exist"),
    ("data.crop=[30,30]", "divisible by the generator's size_multiple 4"),
])
def test_bad_recipe_fails_with_one_line_and_writes_nothing(tmp_path: Path, caplog,
                                                           override: str, message: str) -> None:
    caplog.set_level("INFO", logger="sim2real_gan.train")
    out = tmp_path / "new" / "deeper" / "run"
    args = ["train", "--config", "tiny", "--out", str(out),
            *_sets([*SMALL, f"data.sim.cache={tmp_path / 'cache'}", "loss.semantic=1",
                    "loss.segmenter=auto-sim", "loss.segmenter_steps=100000", override])]
    assert main(args) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and message in errors[0] and "\n" not in errors[0]
    assert "segmenter" not in caplog.text.replace("loss.segmenter", "")  # it never started
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no run folder, no cache


def test_bad_recipe_from_the_command_line_is_one_stderr_line(tmp_path: Path) -> None:
    proc = _launch(["--config", "tiny", "--out", str(tmp_path / "run"),
                    *_sets([*SMALL, "data.crop=[64,64]"])])
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 2
    assert err.count("\n") == 1 and err.startswith("ERROR") and "data.crop" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", ["0", "-1", "100000", "two"])
def test_threads_follow_the_cli_thread_rule(tmp_path: Path, caplog, value: str) -> None:
    """``--set threads=N``: 0 (torch's default) .. this machine's cores; anything else is
    one line, exit 2, nothing written (100000 threads ran out of memory before)."""
    caplog.set_level("INFO", logger="sim2real_gan.train")
    args = ["train", "--config", "tiny", "--out", str(tmp_path / "run"), "--print-config",
            *_sets([*SMALL, f"threads={value}"])]
    if value == "0":
        assert main(args) == 0
        return
    assert main([a for a in args if a != "--print-config"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "threads" in errors[0] and value in errors[0], errors
    if value == "100000":
        top = os.cpu_count() or 1
        assert f"expected a thread count within 0..{top} (this machine's cores)" in errors[0]
    assert not list(tmp_path.iterdir())


def test_signal_while_the_recipe_loads_is_one_line_and_touches_nothing(tmp_path: Path
                                                                       ) -> None:
    """``python -m training.train`` runs wholly under the interrupt guard: a SIGTERM before
    the trainer's own stop handling (here: blocked reading the run's recipe, a FIFO the test
    holds open) exits 143 with one line instead of dying by the signal."""
    import threading

    step = tmp_path / "run" / "checkpoints" / "step_0000001"
    step.mkdir(parents=True)
    (step.parent / "latest").write_text("step_0000001\n")
    fifo = step / "trainer_state.json"
    os.mkfifo(fifo)
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    proc = _launch(["--resume", str(tmp_path / "run")])
    opened: list[int] = []
    opener = threading.Thread(target=lambda: opened.append(os.open(fifo, os.O_WRONLY)))
    opener.start()  # returns once the child has opened the FIFO to read the recipe
    opener.join(timeout=120)
    try:
        assert opened, "the child never opened the recipe"
        proc.send_signal(signal.SIGTERM)  # the child is blocked in the read
        err = proc.stderr.read()
        rc = proc.wait(timeout=120)
    finally:
        for fd in opened:
            os.close(fd)
        proc.kill()
        if opener.is_alive():  # unblock the opener if the child died before reading
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    assert rc == 143, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == ["ERROR sim2real_gan.train: interrupted by SIGTERM; partial output "
                     "removed"], err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def _own_recording(root: Path) -> Path:
    """A sim folder with images only (no flow, uv, labels), an MP4 of 'footage', a recipe
    whose generator reads uv (neural texture) and whose losses want flow and labels."""
    from sim2real_gan.io.media import VideoWriter, write_image

    rng = np.random.default_rng(0)
    (root / "sim" / "image").mkdir(parents=True)
    base = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    for i in range(4):  # a texture sliding right: flow the estimator can find
        write_image(root / "sim" / "image" / f"{i:04d}.png", base[:, 8 - 2 * i:56 - 2 * i])
    with VideoWriter(root / "footage.mp4", fps=10) as vw:
        for _ in range(4):
            vw.write(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    recipe = root / "recipe.yaml"
    recipe.write_text(f"""
mode: sim2real
generator: {{preset: tiny, overrides: {{aux_channels: [uv], texture_channels: 2,
             texture_size: 16, texture_levels: 2}}}}
data:
  sim: {{kind: folder, paths: [{root / 'sim'}], cache: {root / 'cache'}}}
  real: {{kind: video, paths: [{root / 'footage.mp4'}], mask: off}}
  crop: [32, 32]
  batch_size: 1
loss: {{temporal: 1.0, temporal_feat: 1.0, semantic: 1.0, segmenter: auto-sim}}
steps: 2
progress: false
threads: 1
""")
    return recipe


def test_recording_without_uv_labels_trains_with_those_parts_off(tmp_path: Path,
                                                                  caplog) -> None:
    recipe = _own_recording(tmp_path)
    caplog.set_level("INFO", logger="sim2real_gan.train")
    run = tmp_path / "run"
    assert main(["train", "--config", str(recipe), "--out", str(run)]) == 0
    where = f"data.sim: folder {tmp_path / 'sim'}"
    assert f"no uv in the sim data ({where}): neural texture off" in caplog.text
    assert f"no labels in the sim data ({where}): semantic loss off" in caplog.text
    assert "no flow" not in caplog.text  # estimated from the images (training/data/flow.py)
    ck = _latest(run)
    meta = json.loads((ck / "config.json").read_text())
    assert meta["model"]["aux_channels"] == [] and meta["model"]["texture_channels"] == 0
    assert "g/temporal" in meta["meta"]["losses"] and "g/semantic" not in meta["meta"]["losses"]
    from sim2real_gan.export.exporter import export_artifact

    export_artifact(ck, tmp_path / "artifact")
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "artifact" / "model.onnx"))
    assert [i.name for i in sess.get_inputs()] == ["image", "style"]  # no aux input
    # Asked for explicitly, the same loss is an error before anything is written.
    caplog.clear()
    bad = tmp_path / "bad"
    assert main(["train", "--config", str(recipe), "--out", str(bad),
                 "--set", "loss.semantic=2"]) == 2
    assert "loss.semantic was set on the command line, but no labels in the sim data" in (
        caplog.text)
    assert not bad.exists()


def test_flow_off_turns_the_temporal_losses_off(tmp_path: Path, caplog) -> None:
    recipe = _own_recording(tmp_path)
    caplog.set_level("INFO", logger="sim2real_gan.train")
    flow_off = "data.sim.flow=off"
    assert main(["train", "--config", str(recipe), "--out", str(tmp_path / "run"),
                 "--set", flow_off]) == 0
    assert (f"no flow/valid in the sim data (data.sim: folder {tmp_path / 'sim'}): temporal "
            "loss, feature temporal loss off") in caplog.text
    losses = json.loads((_latest(tmp_path / "run") / "config.json").read_text())["meta"]
    assert "g/temporal" not in losses["losses"]
    assert main(["train", "--config", str(recipe), "--out", str(tmp_path / "bad"),
                 "--set", flow_off, "--set", "loss.temporal=1"]) == 2
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_sigterm_under_torchrun_checkpoints_once(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = _launch(["--standalone", "--nproc_per_node=2", "-m", "training.train", "--config",
                    "tiny", "--out", str(run), "--steps", "100000",
                    *_sets([*SMALL, "ckpt_every=100000", "loss.ref_style_prob=0"])],
                   launcher=("-m", "torch.distributed.run"))
    try:
        _wait_for(proc, "step 2/100000")
        proc.send_signal(signal.SIGTERM)  # the agent forwards it to both ranks
        rest = proc.stderr.read()
        proc.wait(timeout=180)
    finally:
        proc.kill()
    assert len(list((run / "checkpoints").glob("step_*"))) == 1   # one step, rank 0 wrote it
    assert not list((run / "checkpoints").glob(".tmp*"))
    step = int(_latest(run).name.split("_")[1])
    resume = [ln for ln in rest.splitlines() if "resume with:" in ln]
    assert len(resume) == 1, rest[-3000:]                          # printed by rank 0 only
    assert f"at step {step};" in resume[0]
    assert resume[0].endswith(f"torchrun --nproc_per_node=2 -m training.train --resume {run}")
