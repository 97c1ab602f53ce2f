"""Hostile corpus, arguments and inputs: one line naming the flag or file, nothing on disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from corpus import CLI, child_env

BAD_VALUES = [
    # (argv after the command's required arguments, flag named in the message, bad value)
    ("translate-bag", ["--threads", "-1"], "--threads", "-1"),
    ("translate-bag", ["--threads", "0"], "--threads", "0"),
    ("translate-bag", ["--threads", "100000"], "--threads", "100000"),
    ("translate-bag", ["--threads", "two"], "--threads", "two"),
    ("translate-bag", ["--hold-ms", "inf"], "--hold-ms", "inf"),
    ("translate-bag", ["--hold-ms", "nan"], "--hold-ms", "nan"),
    ("translate-bag", ["--hold-ms", "-5"], "--hold-ms", "-5"),
    ("translate-bag", ["--slop-ms", "inf"], "--slop-ms", "inf"),
    ("translate-bag", ["--slop-ms", "-0.5"], "--slop-ms", "-0.5"),
    ("demo", ["--threads", "100000"], "--threads", "100000"),
    ("demo", ["--frames", "0"], "--frames", "0"),
    ("bench", ["--threads", "-1"], "--threads", "-1"),
    ("bench", ["--max-seconds", "inf"], "--max-seconds", "inf"),
    ("bench", ["--iters", "0"], "--iters", "0"),
    ("evaluate", ["--threads", "-1"], "--threads", "-1"),
    ("evaluate", ["--threads", "100000"], "--threads", "100000"),
    ("simulate", ["--fps", "inf"], "--fps", "inf"),
    ("simulate", ["--fps", "0"], "--fps", "0"),
    ("export", ["--tolerance", "nan"], "--tolerance", "nan"),
    ("evaluate", ["--max-frames", "0"], "--max-frames", "0"),
    ("evaluate", ["--black-level", "nan"], "--black-level", "nan"),
    ("evaluate", ["--label-channel", "4"], "--label-channel", "4"),
    ("dump", ["--every", "0"], "--every", "0"),
    ("dump", ["--max", "-1"], "--max", "-1"),
    ("dump", ["--label-channel", "x"], "--label-channel", "x"),
]
REQUIRED = {"translate-bag": ["in", "out"], "demo": ["--out", "d"], "bench": [],
            "evaluate": ["--out", "r"], "simulate": ["s"], "export": ["ck", "art"],
            "dump": ["in", "out"]}


@pytest.mark.parametrize(("command", "extra", "flag", "value"), BAD_VALUES,
                         ids=[f"{c} {' '.join(e)}" for c, e, _, _ in BAD_VALUES])
def test_bad_value_is_refused_at_parse_time(command, extra, flag, value, work, cli,
                                            unchanged) -> None:
    snap = unchanged()
    res = cli(command, *REQUIRED[command], *extra)
    assert res.code == 2 and "Traceback" not in res.text
    assert f"argument {flag}" in res.message and repr(value) in res.message
    assert res.message.startswith(f"sim2real-gan {command}: error:")
    snap.check()


# ---------------------------------------------------------------- hostile inputs
def test_missing_and_non_bag_inputs(work, artifact, cli, unchanged) -> None:
    (work / "notabag").mkdir()
    (work / "notabag" / "readme.txt").write_text("hello")
    snap = unchanged()
    res = cli("translate-bag", "nothing", "out", "--model", artifact)
    assert res.code == 2 and "input bag nothing does not exist" in res.message
    res = cli("translate-bag", "notabag", "out", "--model", artifact, "--no-progress")
    assert res.code == 2 and "notabag" in res.message and "Traceback" not in res.text
    res = cli("translate-bag", "notabag", "out", "--model", "nomodel/here")
    assert res.code == 2 and "nomodel/here" in res.message
    snap.check()


def _broken_model(work, artifact, name: str, change) -> str:
    dst = work / name
    shutil.copytree(artifact, dst)
    change(dst)
    return name


def _json_garbage(d) -> None:
    (d / "model.json").write_text("{not json")


def _truncated_onnx(d) -> None:
    f = d / "model.onnx"
    f.write_bytes(f.read_bytes()[:200])


def _no_onnx(d) -> None:
    (d / "model.onnx").unlink()


def _wrong_format(d) -> None:
    doc = json.loads((d / "model.json").read_text())
    doc["format"] = "someone.else"
    (d / "model.json").write_text(json.dumps(doc))


BROKEN = {"model.json": _json_garbage, "model.onnx": _truncated_onnx,
          "missing model.onnx": _no_onnx, "format": _wrong_format}


@pytest.mark.parametrize("what", sorted(BROKEN))
def test_broken_model_is_one_line(what, work, bag, artifact, cli, unchanged) -> None:
    model = _broken_model(work, artifact, "m", BROKEN[what])
    snap = unchanged()
    res = cli("translate-bag", "in", "out", "--model", model, "--no-progress",
              "--backend", "onnxruntime")
    assert res.code == 2 and "Traceback" not in res.text
    assert "internal error" not in res.message
    assert "m" in res.message
    snap.check()


def test_model_that_is_a_file_is_named_as_such(work, bag, cli, unchanged) -> None:
    (work / "model.onnx").write_bytes(b"not a folder")
    snap = unchanged()
    res = cli("translate-bag", "in", "out", "--model", "model.onnx", "--no-progress")
    assert res.code == 2 and "Traceback" not in res.text
    assert "model model.onnx is a file; expected a model artifact folder" in res.message
    snap.check()


@pytest.mark.parametrize("weights", ["generator.safetensors", "style_encoder.safetensors"])
def test_truncated_checkpoint_weights_are_one_line(weights, work, cli, unchanged) -> None:
    """export of a checkpoint whose .safetensors file was cut short: exit 2 naming the
    checkpoint, not an internal error."""
    from corpus import write_checkpoint

    ckpt = write_checkpoint(work / "ckpt")
    data = (ckpt / "generator.safetensors").read_bytes()
    (ckpt / weights).write_bytes(data[:100])
    snap = unchanged()
    res = cli("export", "ckpt", "out")
    assert res.code == 2 and "Traceback" not in res.text and "internal error" not in res.message
    assert "generator checkpoint ckpt: a .safetensors file is corrupt or truncated" \
        in res.message
    snap.check()


def test_a_failed_train_leaves_nothing(work, cli, unchanged) -> None:
    snap = unchanged()
    res = cli("train", "--out", "a/b/run", "--steps", "1", "--set", "data.crop=[30,30]",
              "--set", "progress=false", "--set", "threads=1")
    assert res.code == 2 and "data.crop [30, 30]" in res.message
    snap.check()  # the run directory and its parents a/, a/b/ are gone


def test_error_line_in_a_real_process(tmp_path) -> None:
    """Exactly one line on stderr, in the documented form, for a user error."""
    proc = subprocess.run([*CLI, "translate-bag", "nothing", "out"], cwd=tmp_path,
                          env=child_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == "sim2real-gan: error: input bag nothing does not exist\n"
    assert os.listdir(tmp_path) == []
    debug = subprocess.run([*CLI, "--debug", "translate-bag", "nothing", "out"], cwd=tmp_path,
                           env=child_env(), capture_output=True, text=True, timeout=300)
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    assert debug.stderr.rstrip().endswith("sim2real-gan: error: input bag nothing does not exist")
