"""``python -m training.ship`` and the simulator's preview writer: the never-destroy rule of
io.outputs (relations, recognised outputs only, --force), atomic, nothing left on failure."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import pytest
from sim2real_gan.io.outputs import MARKER
from sim2real_gan.io.staging import OutputError
from test_export_onnx import make_artifact, make_checkpoint

from training.ship import FILES, main, ship


def _tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root`` (folders as '<dir>')."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest()
                                       if p.is_file() else "<dir>")
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ship") / "ckpt", seed=3)


def test_ship_into_a_new_folder_marks_it_and_needs_force_to_redo(ckpt: Path,
                                                                 tmp_path: Path) -> None:
    dst = tmp_path / "models" / "mine"
    meta = ship(ckpt, dst)
    assert meta["resolution"] == [64, 64]
    assert sorted(p.name for p in dst.iterdir()) == sorted(
        [MARKER, *(n for n in FILES if (ckpt / n).is_file())])
    assert json.loads((dst / MARKER).read_text())["command"] == "ship"
    assert (dst / "generator.safetensors").read_bytes() == \
        (ckpt / "generator.safetensors").read_bytes()
    with pytest.raises(OutputError, match="already exists .*use --force"):
        ship(ckpt, dst)
    ship(ckpt, dst, force=True)  # a previous ship output: replaced
    (dst / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    with pytest.raises(OutputError, match=r"not a previous ship model folder \(it also holds "
                                          r"notes.txt\)"):
        ship(ckpt, dst, force=True)
    assert _tree(tmp_path) == before


def test_ship_into_an_artifact_keeps_the_rest_of_it(ckpt: Path, tmp_path: Path) -> None:
    art = make_artifact(tmp_path / "a")
    (art / "style_encoder.safetensors").write_bytes(b"an old encoder")  # ckpt has none
    keep = {n: (art / n).read_bytes() for n in ("model.onnx", "model.json")}
    with pytest.raises(OutputError, match="previous ship model folder\\); use --force"):
        ship(ckpt, art)
    ship(ckpt, art, force=True)
    assert {n: (art / n).read_bytes() for n in keep} == keep
    assert (art / "generator.safetensors").read_bytes() == \
        (ckpt / "generator.safetensors").read_bytes()
    assert not (art / "style_encoder.safetensors").exists()  # not kept beside a new generator
    assert not (art / MARKER).exists()  # still an artifact, export can re-export it in place
    assert not [p for p in art.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("where", ["same", "inside", "contains", "file", "user_folder"])
def test_ship_refuses_and_touches_nothing(ckpt: Path, tmp_path: Path, where: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    run = tmp_path / "run"
    step = run / "checkpoints" / "step_0000001"
    step.mkdir(parents=True)
    for name in FILES:
        if (ckpt / name).is_file():
            (step / name).write_bytes((ckpt / name).read_bytes())
    (run / "checkpoints" / "latest").write_text(step.name + "\n")
    (tmp_path / "file.bin").write_bytes(b"x")
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "keep.txt").write_text("keep")
    dst, needle = {"same": (step, "is the input"), "inside": (run / "model", "lies inside"),
                   "contains": (tmp_path, "contains the input"),
                   "file": (tmp_path / "file.bin", "it is a file"),
                   "user_folder": (tmp_path / "user", "has no .sim2real_gan-output.json")
                   }[where]
    before = _tree(tmp_path)
    src = step if where == "same" else run
    assert main([str(src), str(dst), "--force"]) == 2
    assert _tree(tmp_path) == before
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and needle in errors[0] and "\n" not in errors[0], errors


def test_missing_checkpoint_is_one_line(tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    assert main([str(tmp_path / "nope"), str(tmp_path / "out")]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"ship: {tmp_path / 'nope'}: no generator checkpoint (expected a run "
                      "directory with checkpoints/latest or a checkpoint directory with "
                      "config.json)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_write_preview_failure_leaves_no_parents(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview that cannot be written (disk full) leaves neither a temporary file nor the
    folders made for it; a good one lands whole."""
    from sim2real_gan.sim import writers
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    sim = EndoscopeSimulator(SimConfig(width=32, height=24), 0)
    out = writers.write_preview(tmp_path / "ok" / "p.png", sim, 2, rows=1)
    assert out.is_file() and sorted(p.name for p in out.parent.iterdir()) == ["p.png"]

    def full(path: Path, image: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(writers, "_imwrite", full)
    with pytest.raises(OSError, match="No space left"):
        writers.write_preview(tmp_path / "new" / "deeper" / "p.png", sim, 2, rows=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]
