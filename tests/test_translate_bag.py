"""``sim2real-gan translate-bag`` end to end with a real (tiny, random) exported model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sim2real_gan.cli.main import main
from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns
from sim2real_gan.io.image_codec import image_to_numpy

NS, OUT_NS = "/sim/camera", "/realistic/camera"


def make_tiny_artifact(directory: Path, aux: tuple[str, ...] = ()) -> Path:
    """Export a randomly initialised tiny generator (stands in for the shipped model)."""
    from sim2real_gan.export import ExportOptions, export_artifact
    from sim2real_gan.models import build_generator, get_preset, save_generator

    cfg = get_preset("tiny", aux_channels=aux)
    torch.manual_seed(0)
    gen = build_generator(cfg)
    with torch.no_grad():
        for p in gen.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    save_generator(directory / "ckpt", gen, cfg, meta={"resolution": [64, 64]})
    export_artifact(directory / "ckpt", directory / "model", ExportOptions(seeds=2))
    return directory / "model"


def write_sim_bag(path: Path, n: int = 4, size: int = 48) -> None:
    """A small bag from the built-in simulator (all label topics of the sim contract)."""
    from sim2real_gan.pipeline.sim_source import simulate_to_bag

    simulate_to_bag(path, frames=n, width=size, height=size, seed=3)


def shared_tiny_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny artifact per test session (export takes a few seconds)."""
    base = tmp_path_factory.getbasetemp() / "shared_tiny_artifact"
    if not (base / "model" / "model.json").is_file():
        make_tiny_artifact(base)
    return base / "model"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_artifact(tmp_path_factory)


@pytest.fixture(scope="module")
def sim_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sim") / "bag"
    write_sim_bag(path)
    return path


def _records(path: Path) -> dict[str, list[tuple[int, bytes]]]:
    out: dict[str, list[tuple[int, bytes]]] = {}
    with BagReader(path) as r:
        for m in r.messages():
            out.setdefault(m.topic, []).append((m.stamp_ns, m.raw))
    return out


def _run(*args: str | Path) -> int:
    return main(["translate-bag", *map(str, args), "--no-progress"])


def test_end_to_end(tmp_path: Path, artifact: Path, sim_bag: Path) -> None:
    out = tmp_path / "out"
    assert _run(sim_bag, out, "--model", artifact, "--style", "1") == 0
    src, dst = _records(sim_bag), _records(out)
    in_ns = {t for t in src if t.startswith(NS + "/")}
    assert set(dst) == {t.replace(NS, OUT_NS) for t in in_ns} | (set(src) - in_ns)
    for topic in in_ns - {f"{NS}/image_raw"}:
        assert dst[topic.replace(NS, OUT_NS)] == src[topic]  # byte-identical, same log times
    images_in, images_out = src[f"{NS}/image_raw"], dst[f"{OUT_NS}/image_raw"]
    assert len(images_out) == len(images_in) == 4
    assert [cdr_header_stamp_ns(r) for _, r in images_out] == [
        cdr_header_stamp_ns(r) for _, r in images_in]
    assert [t for t, _ in images_out] == [t for t, _ in images_in]
    with BagReader(sim_bag) as a, BagReader(out) as b:
        ins = [m.decode() for m in a.messages([f"{NS}/image_raw"])]
        outs = [m.decode() for m in b.messages([f"{OUT_NS}/image_raw"])]
    for mi, mo in zip(ins, outs, strict=True):
        assert mi.header == mo.header
        ai, ao = image_to_numpy(mi), image_to_numpy(mo)
        assert ao.shape == ai.shape and ao.dtype == np.uint8
        assert not np.array_equal(ai, ao)  # really translated


def test_refuses_overwrite_then_force(tmp_path: Path, artifact: Path, sim_bag: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert _run(sim_bag, out, "--model", artifact) == 2
    assert _run(sim_bag, out, "--model", artifact, "--force") == 2  # not our output: kept
    assert (out / "keep.txt").read_text() == "mine"
    out = tmp_path / "out2"
    assert _run(sim_bag, out, "--model", artifact) == 0
    assert _run(sim_bag, out, "--model", artifact) == 2  # ours, but no --force
    assert _run(sim_bag, out, "--model", artifact, "--force", "--storage", "sqlite3",
                "--keep-input") == 0
    with BagReader(out) as r:
        assert r.storage == "sqlite3"
        assert f"{NS}/image_raw" in r.topics and f"{OUT_NS}/image_raw" in r.topics


def test_corrupt_and_missing_bags(tmp_path: Path, artifact: Path, sim_bag: Path,
                                  caplog: pytest.LogCaptureFixture) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(sim_bag, bad)
    f = next(p for p in bad.iterdir() if p.suffix == ".mcap")
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    assert _run(bad, tmp_path / "out", "--model", artifact) == 2
    assert "corrupt" in caplog.text and str(bad) in caplog.text
    assert _run(tmp_path / "nothing", tmp_path / "out", "--model", artifact) == 2
    assert "does not exist" in caplog.text
    assert _run(sim_bag, tmp_path / "out", "--model", tmp_path / "nomodel") == 2
    assert _run(sim_bag, tmp_path / "out", "--model", artifact, "--image-topic", "/x") == 2
    assert "image topic /x is not in the bag" in caplog.text
    assert not (tmp_path / "out").exists()


def test_incomplete_frames_are_dropped_and_reported(tmp_path: Path, artifact: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    from test_pipeline_bag_translate import write_camera_bag

    write_camera_bag(tmp_path / "in", n=4, skip={"depth": [1]})
    # 1 of 4 dropped is more than the default --max-drop-fraction: exit 1, output kept
    assert _run(tmp_path / "in", tmp_path / "out", "--model", artifact, "--hold-ms", "50") == 1
    assert "1 of 4 frames were dropped" in caplog.text and "/sim/camera/depth x1" in caplog.text
    assert "25.0% > --max-drop-fraction 0.05" in caplog.text
    assert "was still written with the 3 translated frames" in caplog.text
    assert _run(tmp_path / "in", tmp_path / "out", "--model", artifact, "--hold-ms", "50",
                "--force", "--max-drop-fraction", "0.25") == 0
    with BagReader(tmp_path / "out") as r:
        counts = r.message_counts
    assert {t: n for t, n in counts.items() if t.startswith(OUT_NS)} == {
        f"{OUT_NS}/{s}": 3 for s in ("image_raw", "camera_info", "segmentation", "depth", "uv")}
