"""Helpers of the hostile corpus: tiny inputs, tree fingerprints, running the CLI.

Every case checks the same four things: the exit status, the one error line (naming what
was wrong, no traceback), the inputs byte-identical afterwards and nothing else on disk
(a fingerprint of the whole working folder before and after).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NS = "/sim/camera"
CLI = [sys.executable, "-m", "sim2real_gan.cli.main"]


def write_bag(path: Path, frames: int = 4, size: int = 32, storage: str = "mcap") -> Path:
    """A camera bag: image_raw (rgb8), segmentation (mono8), camera_info, same stamps."""
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    seg = rng.integers(0, 8, (size, size), dtype=np.uint8)
    with BagWriter(path, storage=storage) as w:
        w.add_topic(f"{NS}/image_raw", "sensor_msgs/msg/Image")
        w.add_topic(f"{NS}/segmentation", "sensor_msgs/msg/Image")
        w.add_topic(f"{NS}/camera_info", "sensor_msgs/msg/CameraInfo")
        for i in range(frames):
            stamp = 1_000_000_000 + i * 33_000_000
            h = make_header(stamp, "endoscope_optical_frame")
            w.write(f"{NS}/image_raw", stamp, image_msg(rgb, "rgb8", h))
            w.write(f"{NS}/segmentation", stamp + 1, image_msg(seg, "mono8", h))
            w.write(f"{NS}/camera_info", stamp + 2, camera_info_msg(np.eye(3), size, size, h))
    return path


def write_checkpoint(path: Path) -> Path:
    """A randomly initialised tiny generator checkpoint (generator.safetensors + config.json)."""
    import torch
    from sim2real_gan.models import build_generator, get_preset, save_generator

    cfg = get_preset("tiny")
    torch.manual_seed(0)
    save_generator(path, build_generator(cfg), cfg, meta={"resolution": [32, 32]})
    return path


def fingerprint(root: Path) -> dict[str, str]:
    """relative path -> sha256 of a file, 'dir', or 'link:<target>' for everything under root."""
    out: dict[str, str] = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(base) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = f"link:{os.readlink(p)}"
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """What differs between two fingerprints (empty lists when nothing did)."""
    return {"appeared": sorted(set(after) - set(before)),
            "vanished": sorted(set(before) - set(after)),
            "modified": sorted(k for k in set(before) & set(after) if before[k] != after[k])}


NO_CHANGE = {"appeared": [], "vanished": [], "modified": []}


@dataclass
class Outcome:
    code: int
    error_lines: list[str]  # lines that say "error:" (argparse's or ours)
    text: str  # everything printed or logged, to look for tracebacks

    @property
    def message(self) -> str:
        assert len(self.error_lines) == 1, f"expected one error line, got {self.error_lines}"
        return self.error_lines[0]


def run_main(argv: Sequence[str], capsys, caplog) -> Outcome:
    """Run ``sim2real-gan ARGV`` in this process; collect its status and error line."""
    from sim2real_gan.cli.main import main

    capsys.readouterr()
    caplog.clear()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    lines = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    lines += [ln for ln in cap.err.splitlines() if ": error: " in ln]
    text = cap.out + cap.err + caplog.text
    return Outcome(code, [ln for ln in lines if not ln.startswith("traceback")], text)


def child_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    env.pop("SIM2REAL_GAN_DEBUG", None)
    return env


def _default_signals() -> None:  # the child must not inherit an ignored SIGINT/SIGHUP
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def start_cli(argv: Sequence[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, *map(str, argv)], cwd=cwd, env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 120.0
             ) -> None:
    """Poll ``condition`` until it holds; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process ended (rc {proc.returncode}) before the event: "
                                 f"{err[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the event")
        time.sleep(0.002)


def last_line(text: str) -> str:
    lines = [ln for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    return lines[-1] if lines else ""
