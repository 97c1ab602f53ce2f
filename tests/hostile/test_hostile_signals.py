"""Hostile corpus, signals: SIGTERM/SIGINT/SIGHUP mid-run remove every partial output.

A real ``sim2real-gan`` process is started; the test waits for the event that shows it is
mid-run (its temporary output on disk), sends the signal, and checks the exit status
(128 + signal), the last stderr line, no traceback, no temporary directory left, the input
byte-identical and nothing else in the working folder.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from corpus import changes, fingerprint, last_line, start_cli, wait_for, write_bag

pytestmark = pytest.mark.slow

SIGNALS = {"SIGTERM": (signal.SIGTERM, 143), "SIGINT": (signal.SIGINT, 130),
           "SIGHUP": (signal.SIGHUP, 129)}


def _interrupt(argv: list, cwd: Path, event, sig: signal.Signals) -> subprocess.CompletedProcess:
    proc = start_cli(argv, cwd)
    try:
        wait_for(event, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _check(done: subprocess.CompletedProcess, name: str, code: int, before: dict, after: dict
           ) -> None:
    assert done.returncode == code, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert last_line(done.stderr) == f"sim2real-gan: error: interrupted by {name}; partial " \
                                     "output removed"
    assert changes(before, after) == {"appeared": [], "vanished": [], "modified": []}


@pytest.fixture(scope="module")
def long_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 frames: several seconds of translation, so the signal lands mid-run."""
    return write_bag(tmp_path_factory.mktemp("long") / "in", frames=1500)


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_translate_bag_interrupted(name, tmp_path, long_bag, artifact) -> None:
    sig, code = SIGNALS[name]
    work = tmp_path / "work"
    (work / "runs").mkdir(parents=True)
    before, bag_before = fingerprint(work), fingerprint(long_bag)

    def writing() -> bool:  # the bag writer's file exists inside the staged output
        return any((work / "runs").glob(".out.tmp-*/.out.tmp-*/out/*.mcap"))

    done = _interrupt(["translate-bag", long_bag, "runs/out", "--model", artifact,
                       "--threads", "1"], work, writing, sig)
    _check(done, name, code, before, fingerprint(work))
    assert fingerprint(long_bag) == bag_before


def test_demo_interrupted_leaves_no_partial_sim_bag(tmp_path, artifact) -> None:
    work = tmp_path / "work"
    work.mkdir()
    before = fingerprint(work)

    def translating() -> bool:  # sim_bag is complete, realistic_bag is being written
        return any(work.glob(".demo.tmp-*/demo/.realistic_bag.tmp-*/realistic_bag/*.mcap"))

    done = _interrupt(["demo", "--out", "demo", "--model", artifact, "--frames", "400",
                       "--size", "32x32", "--threads", "1", "--no-progress"], work,
                      translating, signal.SIGTERM)
    _check(done, "SIGTERM", 143, before, fingerprint(work))


def test_export_interrupted_leaves_no_temp(tmp_path, artifact) -> None:
    work = tmp_path / "work"
    work.mkdir()
    before, model_before = fingerprint(work), fingerprint(artifact)

    def exporting() -> bool:
        return any(work.glob("sub/.art.tmp-*/art"))

    done = _interrupt(["export", artifact, "sub/art"], work, exporting, signal.SIGTERM)
    _check(done, "SIGTERM", 143, before, fingerprint(work))  # sub/ was created, then removed
    assert fingerprint(artifact) == model_before
