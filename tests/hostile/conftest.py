"""Fixtures of the hostile corpus (tests/hostile/): a tiny model, a tiny bag, a checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # corpus.py

from corpus import (  # noqa: E402
    NO_CHANGE,
    Outcome,
    changes,
    fingerprint,
    run_main,
    write_bag,
    write_checkpoint,
)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported model (random weights), shared by the whole corpus; read-only use."""
    from sim2real_gan.export import ExportOptions, export_artifact

    base = tmp_path_factory.mktemp("hostile_model")
    write_checkpoint(base / "ckpt")
    export_artifact(base / "ckpt", base / "model", ExportOptions(seeds=1))
    return base / "model"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The case's working folder, also the current directory (stray writes show up)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def bag(work: Path) -> Path:
    return write_bag(work / "in")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture):
    """``cli(*argv) -> Outcome`` running ``sim2real-gan`` in this process."""
    def run(*argv: object) -> Outcome:
        return run_main([str(a) for a in argv], capsys, caplog)
    return run


@pytest.fixture
def unchanged(work: Path, artifact: Path):
    """``unchanged()`` snapshots the working folder and the model; call ``check()`` after."""
    class Snapshot:
        def __init__(self) -> None:
            self.before = (fingerprint(work), fingerprint(artifact))

        def check(self) -> None:
            now = (fingerprint(work), fingerprint(artifact))
            assert changes(self.before[0], now[0]) == NO_CHANGE
            assert self.before[1] == now[1], "the model artifact changed"
    return Snapshot
