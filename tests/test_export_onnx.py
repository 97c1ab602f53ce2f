"""Export: ONNX graph + parity + model.json, dynamic shapes, atomic writes, bad artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sim2real_gan.export import ArtifactError, ExportOptions, export_artifact, load_manifest
from sim2real_gan.export.onnx_export import example_inputs, graph_input_names
from sim2real_gan.models import build_generator, get_preset, save_generator


def make_checkpoint(directory: Path, aux: tuple[str, ...] = (), texture: int = 0,
                    seed: int = 0, preset: str = "tiny") -> Path:
    """A tiny generator with random (non-zero) weights everywhere, so the style matters."""
    cfg = get_preset(preset, aux_channels=aux, texture_channels=texture)
    torch.manual_seed(seed)
    gen = build_generator(cfg)
    with torch.no_grad():
        for p in gen.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return save_generator(directory, gen, cfg, meta={"resolution": [64, 64]})


def make_artifact(tmp: Path, aux: tuple[str, ...] = (), texture: int = 0,
                  **opts) -> Path:
    ckpt = make_checkpoint(tmp / "ckpt", aux, texture)
    export_artifact(ckpt, tmp / "artifact", ExportOptions(**opts))
    return tmp / "artifact"


@pytest.fixture(scope="module")
def plain_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def texture_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("tex"), aux=("uv", "depth"), texture=4)


def test_artifact_files_and_manifest(plain_artifact: Path) -> None:
    names = sorted(p.name for p in plain_artifact.iterdir())
    assert names == ["config.json", "generator.safetensors", "model.json", "model.onnx"]
    m = load_manifest(plain_artifact)
    doc = json.loads((plain_artifact / "model.json").read_text())
    assert [i["name"] for i in doc["inputs"]] == ["image", "style"]
    assert m.preset == "tiny" and m.style_dim == 4 and m.size_multiple == 4
    assert m.working_resolution == (64, 64)
    assert m.parity["fp32"]["max_abs_diff"] <= 1e-3
    assert len(m.parity["fp32"]["cases"]) == 2
    assert "default" in m.styles and "seed_7" in m.styles and len(m.styles["seed_0"]) == 4
    assert len(m.content_hash) == 64 and m.opset >= 17
    assert graph_input_names(plain_artifact / "model.onnx") == ["image", "style"]


def test_texture_model_has_aux_input(texture_artifact: Path) -> None:
    m = load_manifest(texture_artifact)
    assert [a.name for a in m.aux] == ["uv", "depth"] and m.aux_channels == 3
    assert [a.encoding for a in m.aux] == ["32FC2", "32FC1"]
    assert graph_input_names(texture_artifact / "model.onnx") == ["image", "style", "aux"]
    assert m.parity["fp32"]["max_abs_diff"] <= 1e-3


@pytest.mark.parametrize("hw", [(32, 48), (72, 40)])
def test_dynamic_height_width_and_batch(plain_artifact: Path, hw: tuple[int, int]) -> None:
    import onnxruntime as ort
    from sim2real_gan.models import load_generator

    sess = ort.InferenceSession(str(plain_artifact / "model.onnx"),
                                providers=["CPUExecutionProvider"])
    gen, _ = load_generator(plain_artifact)
    feeds = example_inputs(4, 0, hw, batch=3, seed=5)
    out = sess.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    with torch.no_grad():
        ref = gen(feeds["image"], feeds["style"]).numpy()
    assert out.shape == (3, 3, *hw)
    np.testing.assert_allclose(out, ref, atol=1e-3)


def test_fp16_inside_graph_keeps_fp32_io(tmp_path: Path) -> None:
    import onnx

    art = make_artifact(tmp_path, fp16=True)
    m = load_manifest(art)
    assert m.fp16_internal and m.parity["fp16"]["max_abs_diff"] <= 3e-2
    model = onnx.load(str(art / "model.onnx"))
    f32 = onnx.TensorProto.FLOAT
    assert all(i.type.tensor_type.elem_type == f32 for i in model.graph.input)
    assert model.graph.output[0].type.tensor_type.elem_type == f32
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)


def test_failed_parity_leaves_no_directory(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path / "ckpt")
    with pytest.raises(ArtifactError, match="parity"):
        export_artifact(ckpt, tmp_path / "out", ExportOptions(tolerance=0.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path / "ckpt")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    (tmp_path / "out" / "model.onnx").write_bytes(b"old graph")
    (tmp_path / "out" / "trainer_state.json").write_text("{}")
    with pytest.raises(FileExistsError, match="already exists"):
        export_artifact(ckpt, tmp_path / "out")
    assert (tmp_path / "out" / "model.onnx").read_bytes() == b"old graph"
    export_artifact(ckpt, tmp_path / "out", ExportOptions(overwrite=True))
    assert (tmp_path / "out" / "keep.txt").read_text() == "x"  # extra files carried over
    assert not (tmp_path / "out" / "trainer_state.json").exists()  # never into an artifact
    load_manifest(tmp_path / "out")  # the new graph (hash checked)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "out"]


def test_in_place_export_of_a_checkpoint_directory(tmp_path: Path) -> None:
    """models/default is a checkpoint directory exported in place: nothing of it is lost."""
    ckpt = make_checkpoint(tmp_path / "default")
    (ckpt / "MODEL_CARD.md").write_text("# card")
    (ckpt / "trainer_state.json").write_text("{}")
    before = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    export_artifact(ckpt, ckpt, ExportOptions(overwrite=True))
    after = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"model.onnx", "model.json"}
    load_manifest(ckpt)
    export_artifact(ckpt, ckpt, ExportOptions(overwrite=True))  # re-export is idempotent
    assert load_manifest(ckpt).content_hash


def test_missing_and_corrupt_artifacts(tmp_path: Path, plain_artifact: Path) -> None:
    import shutil

    with pytest.raises(FileNotFoundError, match="not found"):
        load_manifest(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="model.json"):
        load_manifest(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(plain_artifact, bad)
    data = bytearray((bad / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="corrupt or was replaced"):
        load_manifest(bad)
    (bad / "model.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_manifest(bad)
    doc = json.loads((plain_artifact / "model.json").read_text())
    doc["styles"]["default"] = [0.0]
    (bad / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="style_dim"):
        load_manifest(bad)


def test_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        export_artifact(tmp_path / "none", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim2real_gan.cli.main import main

    ckpt = make_checkpoint(tmp_path / "ckpt")
    rc = main(["export", str(ckpt), str(tmp_path / "art"), "--working-resolution", "32x48",
               "--seeds", "2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "max |diff|" in out
    m = load_manifest(tmp_path / "art")
    assert m.working_resolution == (32, 48) and sorted(m.styles) == ["default", "seed_0", "seed_1"]
    assert main(["export", str(ckpt), str(tmp_path / "art")]) == 2  # exists, no --force
    assert main(["export", str(ckpt), str(tmp_path / "x"), "--working-resolution", "30x30"]) == 2


def test_atomic_directory_mode_is_not_private(tmp_path: Path) -> None:
    import os

    from sim2real_gan.export.atomic import atomic_directory

    mask = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "a") as tmp:
            (tmp / "f").write_text("1")
    finally:
        os.umask(mask)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("given", ["run", "checkpoints", "latest"])
def test_cli_export_of_a_training_run(tmp_path: Path, given: str) -> None:
    """A run directory (as `train` lays it out) exports the checkpoint `latest` names."""
    from sim2real_gan.cli.main import main

    run = tmp_path / "run"
    make_checkpoint(run / "checkpoints" / "step_0000002", seed=2)
    make_checkpoint(run / "checkpoints" / "step_0000001", seed=1)
    (run / "checkpoints" / "latest").write_text("step_0000002\n")
    path = {"run": run, "checkpoints": run / "checkpoints",
            "latest": run / "checkpoints" / "latest"}[given]
    assert main(["export", str(path), str(tmp_path / "art"), "--seeds", "1"]) == 0
    got = (tmp_path / "art" / "generator.safetensors").read_bytes()
    assert got == (run / "checkpoints" / "step_0000002" / "generator.safetensors").read_bytes()
