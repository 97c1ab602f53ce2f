"""Hostile corpus, outputs: no command destroys input or anything it did not write.

Each refused case: exit 2, one line naming the path and the relation, no traceback, the
working folder (inputs included) byte-identical and nothing new in it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from corpus import NS, Outcome, fingerprint, write_bag
from sim2real_gan.io.outputs import MARKER, write_marker


def refused(res: Outcome, *words: str, code: int = 2) -> None:
    assert res.code == code, res.text
    assert "Traceback" not in res.text
    for w in words:
        assert w in res.message, res.message


# ---------------------------------------------------------------- translate-bag: data loss
def test_out_parent_of_in_with_force(work, artifact, cli, unchanged) -> None:
    write_bag(work / "p" / "in")
    (work / "p" / "notes.txt").write_text("unrelated")
    snap = unchanged()
    res = cli("translate-bag", "p/in", "p", "--model", artifact, "--force")
    refused(res, "contains the input p/in")
    snap.check()


def test_out_is_folder_of_input_file(work, artifact, cli, unchanged) -> None:
    write_bag(work / "x" / "in")
    mcap = next((work / "x" / "in").glob("*.mcap"))
    snap = unchanged()
    refused(cli("translate-bag", mcap, "x/in", "--model", artifact, "--force"),
            "contains the input")
    snap.check()


def test_out_inside_input(work, bag, artifact, cli, unchanged) -> None:
    snap = unchanged()
    refused(cli("translate-bag", "in", "in/sub", "--model", artifact), "lies inside the input in")
    snap.check()


def test_out_is_input(work, bag, artifact, cli, unchanged) -> None:
    snap = unchanged()
    refused(cli("translate-bag", "in", "in", "--model", artifact, "--force"), "is the input in")
    snap.check()


def test_out_is_the_model(work, bag, artifact, cli, unchanged) -> None:
    snap = unchanged()
    refused(cli("translate-bag", "in", artifact, "--model", artifact, "--force"),
            "is the input")
    snap.check()


def test_out_holds_unrelated_files(work, bag, artifact, cli, unchanged) -> None:
    (work / "out").mkdir()
    (work / "out" / "notes.txt").write_text("mine")
    snap = unchanged()
    refused(cli("translate-bag", "in", "out", "--model", artifact, "--force"),
            "out exists and is not a previous translate-bag", MARKER)
    snap.check()


def test_out_is_another_commands_output(work, bag, artifact, cli, unchanged) -> None:
    (work / "sim").mkdir()
    write_marker(work / "sim", "simulate")
    snap = unchanged()
    refused(cli("translate-bag", "in", "sim", "--model", artifact, "--force"),
            "it is a simulate output")
    snap.check()


def test_out_is_a_file_or_a_link(work, bag, artifact, cli, unchanged) -> None:
    (work / "f.txt").write_text("x")
    os.symlink(work / "elsewhere", work / "link")
    snap = unchanged()
    refused(cli("translate-bag", "in", "f.txt", "--model", artifact, "--force"), "it is a file")
    refused(cli("translate-bag", "in", "link", "--model", artifact, "--force"),
            "symbolic link")
    refused(cli("translate-bag", "in", "f.txt/sub", "--model", artifact),
            "f.txt is a file, not a folder")
    snap.check()


def test_force_replaces_only_an_untouched_previous_output(work, bag, artifact, cli) -> None:
    assert cli("translate-bag", "in", "out", "--model", artifact, "--no-progress").code == 0
    marker = json.loads((work / "out" / MARKER).read_text())
    assert marker["command"] == "translate-bag" and "metadata.yaml" in marker["files"]
    refused(cli("translate-bag", "in", "out", "--model", artifact), "already exists",
            "--force")
    (work / "out" / "notes.txt").write_text("added by the user")
    before = fingerprint(work)
    refused(cli("translate-bag", "in", "out", "--model", artifact, "--force"),
            "also holds notes.txt")
    assert fingerprint(work) == before
    (work / "out" / "notes.txt").unlink()
    input_before = fingerprint(work / "in")
    res = cli("translate-bag", "in", "out", "--model", artifact, "--force", "--storage",
              "sqlite3", "--no-progress")
    assert res.code == 0, res.text
    assert fingerprint(work / "in") == input_before
    assert sorted(p.name for p in work.iterdir()) == ["in", "out"]  # no temp dir left
    assert any(p.suffix == ".db3" for p in (work / "out").iterdir())


def test_failure_leaves_no_created_parents(work, bag, artifact, cli, unchanged) -> None:
    shutil.copytree(work / "in", work / "bad")
    f = next((work / "bad").glob("*.mcap"))
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    snap = unchanged()
    refused(cli("translate-bag", "bad", "a/b/c/out", "--model", artifact, "--no-progress"),
            "corrupt")
    refused(cli("translate-bag", "in", "a/b/out", "--model", artifact, "--image-topic", "/x",
                "--no-progress"), "/x")
    snap.check()  # a/ and a/b/ were created for the output and removed with it


# ---------------------------------------------------------------- export
@pytest.fixture
def ckpt(work: Path, artifact: Path) -> Path:
    """A generator checkpoint (the artifact's own generator files) under proj/ckpt."""
    dst = work / "proj" / "ckpt"
    dst.mkdir(parents=True)
    for name in ("generator.safetensors", "config.json"):
        shutil.copy2(artifact / name, dst / name)
    (work / "proj" / "data").mkdir()
    (work / "proj" / "data" / "keep.txt").write_text("sibling folder")
    return dst


def test_export_out_contains_checkpoint(work, ckpt, cli, unchanged) -> None:
    snap = unchanged()
    refused(cli("export", "proj/ckpt", "proj", "--force"), "contains the input proj/ckpt")
    snap.check()


def test_export_in_place_needs_an_artifact(work, ckpt, cli, unchanged) -> None:
    snap = unchanged()
    refused(cli("export", "proj/ckpt", "proj/ckpt", "--force"),
            "not a previous export model artifact", "model.json")
    refused(cli("export", "proj/ckpt", "proj/data", "--force"), "not a previous export")
    snap.check()


def test_export_replaces_an_artifact_and_reexports_in_place(work, ckpt, cli) -> None:
    assert cli("export", "proj/ckpt", "art").code == 0
    refused(cli("export", "proj/ckpt", "art"), "already exists")
    weights = (work / "art" / "generator.safetensors").read_bytes()
    res = cli("export", "art", "art", "--force")  # models/default's re-export
    assert res.code == 0, res.text
    assert (work / "art" / "generator.safetensors").read_bytes() == weights
    assert sorted(p.name for p in work.iterdir()) == ["art", "proj"]


# ---------------------------------------------------------------- simulate, demo, evaluate, train
def test_simulate_refuses_unrelated_and_preview_inside(work, cli, unchanged) -> None:
    (work / "seq").mkdir()
    (work / "seq" / "mine.png").write_bytes(b"x")
    (work / "p.png").write_bytes(b"not ours")
    snap = unchanged()
    refused(cli("simulate", "seq", "--frames", "2", "--force"), "not a previous simulate")
    refused(cli("simulate", "new", "--frames", "2", "--preview", "new/p.png"),
            "lies inside the output new")
    refused(cli("simulate", "new", "--frames", "2", "--preview", "p.png"), "p.png already "
            "exists")
    snap.check()


def test_demo_refuses_unrelated_and_model_parent(work, artifact, cli, unchanged) -> None:
    (work / "d").mkdir()
    (work / "d" / "summary.json").write_text("{}")  # a name demo writes, but not its marker
    snap = unchanged()
    refused(cli("demo", "--out", "d", "--model", artifact, "--force", "--frames", "2"),
            "not a previous demo")
    refused(cli("demo", "--out", artifact.parent, "--model", artifact, "--force"),
            "contains the input")
    snap.check()


def test_evaluate_checks_out_before_running(work, artifact, cli, unchanged) -> None:
    (work / "r").mkdir()
    (work / "r" / "metrics.json").write_text("{}")
    snap = unchanged()
    refused(cli("evaluate", "--model", f"m={artifact}", "--out", "r", "--force"),
            "not a previous evaluate")
    refused(cli("evaluate", "--model", f"m={artifact}", "--out", artifact.parent, "--force"),
            "contains the input")
    snap.check()


def test_train_run_directory_rules(work, cli, unchanged) -> None:
    (work / "runs" / "x").mkdir(parents=True)
    (work / "runs" / "x" / "mine.txt").write_text("not a run")
    (work / "runs" / "old" / "checkpoints").mkdir(parents=True)
    (work / "runs" / "old" / "train_config.json").write_text("{}")
    snap = unchanged()
    refused(cli("train", "--out", "runs/x", "--force"), "is not a training run",
            "no train_config.json")
    refused(cli("train", "--out", "runs/old"), "already holds a training run", "--resume")
    refused(cli("train", "--out", "runs", "--set", "data.sim.cache=runs/cache"),
            "contains the input runs/cache")
    refused(cli("train", "--out", "runs/old", "--resume", "runs/old", "--force"),
            "use one of them")
    snap.check()


# ---------------------------------------------------------------- permissions
@pytest.mark.skipif(os.geteuid() == 0, reason="root is not denied by file modes")
def test_read_only_folder_is_one_line(work, bag, artifact, cli) -> None:
    ro = work / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        before = fingerprint(work)
        refused(cli("translate-bag", "in", "ro/out", "--model", artifact),
                "ro/out", "ermission denied")
        assert fingerprint(work) == before
    finally:
        ro.chmod(0o755)


def test_input_namespace_topics_are_untouched_by_a_run(work, bag, artifact, cli) -> None:
    """A successful run leaves its input byte-identical (the bag is only read)."""
    before = fingerprint(work / "in")
    assert cli("translate-bag", "in", "out", "--model", artifact, "--no-progress").code == 0
    assert fingerprint(work / "in") == before
    from sim2real_gan.io.bag import BagReader

    with BagReader(work / "out") as r:
        assert "/realistic/camera/image_raw" in r.topics and f"{NS}/image_raw" not in r.topics
