"""`sim2real-gan evaluate` end to end on tiny models, and the model adapters it uses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from sim2real_gan.cli.main import main
from sim2real_gan.eval.data import TEST_SEEDS, seeds, simulate_sequences
from sim2real_gan.eval.methods import Identity, load_method


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from sim2real_gan.export import ExportOptions, export_artifact
    from sim2real_gan.models import build_generator, get_preset, save_generator

    root = tmp_path_factory.mktemp("models")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    ours = get_preset("tiny", aux_channels=("uv",))
    save_generator(root / "ours_ckpt", build_generator(ours), ours, meta={"resolution": [32, 32]})
    export_artifact(root / "ours_ckpt", root / "ours_artifact", ExportOptions(seeds=2))
    base = get_preset("cyclegan", ngf=8, n_res=1)
    save_generator(root / "cyclegan", build_generator(base), base)
    yield {"ckpt": root / "ours_ckpt", "artifact": root / "ours_artifact",
           "cyclegan": root / "cyclegan"}
    torch.set_num_threads(before)


def test_artifact_and_checkpoint_translate_alike(models) -> None:
    seqs = simulate_sequences(seeds(TEST_SEEDS, 2), 3, 32, 32, ("sim",))
    a = load_method(f"a={models['artifact']}", backend="onnxruntime").translate(seqs)
    c = load_method(f"c={models['ckpt']}").translate(seqs)
    assert a.shape == c.shape == (2, 3, 32, 32, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - c.astype(int)).max() <= 2  # same per-sequence style codes
    assert not np.array_equal(a[0], a[1])  # different scenes/styles differ
    assert np.array_equal(Identity().translate(seqs), seqs.rgb["sim"])
    w = load_method(f"w={models['artifact']}", backend="onnxruntime", size_mode="working")
    assert w.translate(seqs).shape == a.shape and w.describe()["size_mode"] == "working"


def test_load_method_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="model not found"):
        load_method(f"x={tmp_path / 'missing'}")
    with pytest.raises(FileNotFoundError, match="neither a model artifact"):
        load_method(str(tmp_path))
    with pytest.raises(ValueError, match="NAME=PATH"):
        load_method("=")


@pytest.mark.slow
def test_evaluate_cli_writes_report(models, tmp_path) -> None:
    from sim2real_gan.io.media import write_image

    footage = tmp_path / "footage"
    real = simulate_sequences(seeds(7, 2), 3, 48, 40, ("real",)).frames("real")
    for i, frame in enumerate(real):  # another size than the protocol's: resized on load
        write_image(footage / f"{i:03d}.png", frame)
    out = tmp_path / "report"
    argv = ["evaluate", "--profile", "quick", "--threads", "1", "--no-progress",
            "--real-frames", str(footage), "--segmenter-crop", "16",
            "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
            "--model", f"ours={models['artifact']}", "--model", f"cyclegan={models['cyclegan']}"]
    assert main(argv) == 0
    names = {"metrics.json", "report.md", "report.html", "frames.png", "temporal_profile.png",
             "iou.png", "summary.png"}
    assert names <= {p.name for p in out.iterdir()}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]  # no temp left
    m = json.loads((out / "metrics.json").read_text())
    assert list(m["methods"]) == ["no translation", "ours", "cyclegan"]
    raw = m["methods"]["no translation"]
    assert raw["ssim"] == pytest.approx(1.0) and raw["tof"] == 0.0
    assert raw["warping_error"] == pytest.approx(m["reference"]["warping_error_sim_input"])
    for meth in m["methods"].values():
        for key in ("warping_error", "tof", "kid", "fid", "domain_accuracy", "footage_kid"):
            assert math.isfinite(meth[key])
        assert 0.0 <= meth["label_preservation"]["miou"] <= 1.0
        assert {"streak_excess", "checker_ratio"} <= set(meth["artifacts"])
        assert len(meth["downstream"]["per_class"]) == 8
    assert {t["target"] for t in m["targets"]} == {"warping error", "KID",
                                                   "label-preservation mIoU", "downstream mIoU",
                                                   "no streaks", "no checkerboard"}
    md = (out / "report.md").read_text()
    assert "| ours |" in md and "![Frames](frames.png)" in md and "footage KID" in md
    # An existing report is not overwritten without --force; a bad model is a clear error.
    assert main(argv) == 2
    assert main(["evaluate", "--out", str(tmp_path / "r2"), "--model",
                 f"x={tmp_path / 'nope'}"]) == 2
    assert not (tmp_path / "r2").exists()
    bad = ["evaluate", "--out", str(tmp_path / "r3"), "--segmenter-crop", "6",
           "--model", f"ours={models['artifact']}"]
    assert main(bad) == 2 and not (tmp_path / "r3").exists()
