"""sim2real_gan.io.staging / outputs / interrupt, cli.errors and cli.argtypes (unit level)."""

from __future__ import annotations

import argparse
import errno
import os
import signal
from pathlib import Path

import pytest
from sim2real_gan.cli import argtypes
from sim2real_gan.cli.errors import describe, one_line
from sim2real_gan.io.interrupt import Interrupted, interrupt_guard
from sim2real_gan.io.outputs import (
    MARKER,
    OutputError,
    check_output,
    check_relations,
    read_marker,
    staged_output,
)
from sim2real_gan.io.run_dir import claim_run_dir
from sim2real_gan.io.staging import atomic_path, public_path, remove_registered


def _listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


# ---------------------------------------------------------------- staging
def test_atomic_path_commits_and_replaces(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "a" / "b" / "out") as built:
        assert not built.exists() and built.name == "out"
        built.mkdir()
        (built / "x").write_text("1")
    assert _listing(tmp_path) == ["a", "a/b", "a/b/out", "a/b/out/x"]
    with pytest.raises(FileExistsError, match="already exists"):
        with atomic_path(tmp_path / "a" / "b" / "out"):
            pass
    with atomic_path(tmp_path / "a" / "b" / "out", replace=True) as built:
        built.mkdir()
        (built / "y").write_text("2")
    assert _listing(tmp_path) == ["a", "a/b", "a/b/out", "a/b/out/y"]


def test_atomic_path_failure_removes_temp_and_created_parents(tmp_path: Path) -> None:
    (tmp_path / "keep").mkdir()
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "keep" / "new" / "deeper" / "out") as built:
            built.mkdir()
            (built / "half").write_text("x")
            raise RuntimeError("boom")
    assert _listing(tmp_path) == ["keep"]  # existing parent kept, created ones removed


def test_failed_replacement_keeps_the_old_output(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "out", replace=True) as built:
            built.mkdir()
            raise Interrupted(signal.SIGTERM)
    assert _listing(tmp_path) == ["out", "out/old"]


def test_nothing_written_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="nothing was written"):
        with atomic_path(tmp_path / "out"):
            pass
    assert _listing(tmp_path) == []


def test_remove_registered_cleans_an_abandoned_stage(tmp_path: Path) -> None:
    stage = atomic_path(tmp_path / "p" / "out")
    built = stage.__enter__()  # a signal during cleanup would leave the stage like this
    built.mkdir()
    assert any(p.name.startswith(".out.tmp-") for p in (tmp_path / "p").iterdir())
    assert public_path(built / "f.mcap") == str(tmp_path / "p" / "out" / "f.mcap")
    assert remove_registered() == [tmp_path / "p" / "out"]
    assert _listing(tmp_path) == []


# ---------------------------------------------------------------- the --force rule
def test_relations(tmp_path: Path) -> None:
    (tmp_path / "p" / "in").mkdir(parents=True)
    for out, word in (("p", "contains"), ("p/in", "is the input"), ("p/in/x", "lies inside")):
        with pytest.raises(OutputError, match=word):
            check_relations(tmp_path / out, [tmp_path / "p" / "in"])
    check_relations(tmp_path / "p" / "out", [tmp_path / "p" / "in", None])  # siblings: fine
    os.symlink(tmp_path / "p", tmp_path / "alias")
    with pytest.raises(OutputError, match="contains"):  # through a symbolic link too
        check_relations(tmp_path / "alias", [tmp_path / "p" / "in"])


def test_staged_output_marks_and_recognises(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert check_output(out, "translate-bag") is False
    with staged_output(out, "translate-bag") as built:
        (built / "sub").mkdir(parents=True)
        (built / "sub" / "a.mcap").write_bytes(b"1")
    assert read_marker(out) == {"format": "sim2real_gan.output/1",
                                "command": "translate-bag", "files": ["sub/a.mcap"]}
    with pytest.raises(OutputError, match="already exists"):
        check_output(out, "translate-bag")
    assert check_output(out, "translate-bag", force=True) is True
    with pytest.raises(OutputError, match="it is a translate-bag output"):
        check_output(out, "simulate", force=True)
    (out / "sub" / "b.txt").write_text("user")
    with pytest.raises(OutputError, match="also holds sub/b.txt"):
        check_output(out, "translate-bag", force=True)


def test_empty_folder_is_free(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert check_output(tmp_path / "out", "evaluate") is True
    with staged_output(tmp_path / "out", "evaluate") as built:
        built.mkdir()
        (built / "metrics.json").write_text("{}")
    assert _listing(tmp_path) == ["out", f"out/{MARKER}", "out/metrics.json"]


def test_artifact_is_recognised_by_its_manifest(tmp_path: Path) -> None:
    art = tmp_path / "art"
    art.mkdir()
    (art / "model.json").write_text('{"format": "sim2real_gan.model"}')
    assert check_output(art, "export", [tmp_path / "ckpt"], force=True)
    assert check_output(art, "export", [art], force=True, in_place_ok=True)  # re-export
    with pytest.raises(OutputError, match="is the input"):
        check_output(art, "export", [art], force=True)
    (art / "figures").mkdir()
    with pytest.raises(OutputError, match="folder"):
        check_output(art, "export", force=True)


# ---------------------------------------------------------------- train's run directory
def _publish(run: Path) -> None:
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "latest").write_text("step_0000001\n")


def test_run_dir_failure_without_checkpoint_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        with claim_run_dir(tmp_path / "runs" / "a") as run:
            (run / "tb").mkdir()
            raise ValueError("bad config")
    assert _listing(tmp_path) == []


def test_run_dir_interrupt_with_checkpoint_keeps_the_run(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with claim_run_dir(tmp_path / "a") as run:
            _publish(run)
            raise Interrupted(signal.SIGINT)
    assert (tmp_path / "a" / "checkpoints" / "latest").is_file()


def test_run_dir_force_replaces_only_after_success(tmp_path: Path) -> None:
    run = tmp_path / "a"
    with claim_run_dir(run) as r:
        _publish(r)
        (r / "train_config.json").write_text("old")
    with pytest.raises(OutputError, match="already holds a training run"):
        with claim_run_dir(run):
            pass
    with pytest.raises(RuntimeError):  # failed before a checkpoint: the old run comes back
        with claim_run_dir(run, force=True) as r:
            raise RuntimeError("crash")
    assert (run / "train_config.json").read_text() == "old"
    with claim_run_dir(run, force=True) as r:
        _publish(r)
    assert not (run / "train_config.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    with claim_run_dir(run, resume=run) as r:  # continuing the same run is always fine
        assert r == run


# ---------------------------------------------------------------- signals and errors
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                           (signal.SIGINT, 130)])
def test_interrupt_guard_raises_and_restores(sig: signal.Signals, code: int) -> None:
    original = signal.signal(sig, _noop)  # as in a terminal (pytest may run under nohup)
    try:
        with pytest.raises(Interrupted) as info:
            with interrupt_guard():
                os.kill(os.getpid(), sig)  # the handler runs before the next line
                pytest.fail("the signal did not interrupt")
        assert signal.getsignal(sig) is _noop  # restored
    finally:
        signal.signal(sig, original)
    assert info.value.exit_code == code and isinstance(info.value, KeyboardInterrupt)
    assert describe(info.value) == (code, f"interrupted by {sig.name}; partial output removed")


def test_an_ignored_signal_stays_ignored() -> None:
    original = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup
    try:
        with interrupt_guard():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, original)


def _noop(signum: int, frame: object) -> None:
    pass


class _SignalInDestructor:
    """Delivers SIGTERM while Python runs ``__del__``, where a raised exception is swallowed
    (as when the import system's module-lock weakref callback was running)."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        _ = [i for i in range(10)]  # the handler raises here, inside __del__


def test_a_swallowed_interruption_is_delivered_again() -> None:
    import time

    original = signal.signal(signal.SIGTERM, _noop)
    try:
        with pytest.raises(Interrupted) as info:
            with interrupt_guard():
                _SignalInDestructor()  # collected at once: the Interrupted is swallowed
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # redelivered by the guard's timer
                    time.sleep(0.001)
                pytest.fail("the swallowed interruption was not delivered again")
    finally:
        signal.signal(signal.SIGTERM, original)
    assert info.value.exit_code == 143


def test_a_swallowed_interruption_blocks_the_commit(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sim2real_gan.io import interrupt

    monkeypatch.setattr(interrupt, "REDELIVER_S", 60.0)  # the commit comes first
    original = signal.signal(signal.SIGTERM, _noop)
    try:
        with pytest.raises(Interrupted):
            with interrupt_guard():
                with atomic_path(tmp_path / "out") as built:
                    built.mkdir()
                    _SignalInDestructor()
    finally:
        signal.signal(signal.SIGTERM, original)
    assert _listing(tmp_path) == []


def test_describe_names_the_path() -> None:
    exc = PermissionError(errno.EACCES, "Permission denied", "/data/out")
    assert describe(exc) == (2, "permission denied: /data/out")
    exc = OSError(errno.ENOSPC, "No space left on device", "/data/out/x.mcap")
    assert describe(exc) == (2, "no space left on device: /data/out/x.mcap")
    assert describe(ValueError("bad\nthing")) == (2, "bad | thing")
    code, line = describe(KeyError("x"))
    assert code == 2 and line.startswith("internal error KeyError") and "--debug" in line
    assert len(one_line("x" * 5000)) == 600


def test_argtypes() -> None:
    top = os.cpu_count() or 1
    assert argtypes.threads("1") == 1 and argtypes.threads(str(top)) == top
    assert argtypes.threads_or_zero("0") == 0
    assert argtypes.duration_ms("0") == 0.0 and argtypes.duration_ms("12.5") == 12.5
    for fn, bad in ((argtypes.threads, "0"), (argtypes.threads, str(top + 1)),
                    (argtypes.threads, "x"), (argtypes.duration_ms, "inf"),
                    (argtypes.duration_ms, "-1"), (argtypes.duration_ms, "nan"),
                    (argtypes.positive_seconds, "0"), (argtypes.positive_float, "-inf"),
                    (argtypes.non_negative_float, "nan"), (argtypes.positive_int, "0"),
                    (argtypes.non_negative_int, "-1")):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad)):
            fn(bad)
