"""Hostile model artifacts: one field corrupted per case. Loading (``load_manifest``, the
runtime, the CLI) must fail with one line naming the field, what was expected and what was
found, and must leave the model folder byte-identical."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from sim2real_gan.artifact import ArtifactError, ArtifactFileMissing, load_manifest, sha256_file
from sim2real_gan.runtime import Translator

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "default"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name) -> SHA-256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def edit_json(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / "model.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=2))  # json writes NaN as NaN, as Python reads it


def rename_graph_input(folder: Path) -> None:
    """Rename model.onnx's ``image`` input to ``img`` (a valid graph) and record its hash."""
    model = onnx.load(str(folder / "model.onnx"))
    model.graph.input[0].name = "img"
    for node in model.graph.node:
        node.input[:] = ["img" if i == "image" else i for i in node.input]
    onnx.save(model, str(folder / "model.onnx"))
    sha = sha256_file(folder / "model.onnx")
    edit_json(folder, lambda d: d["onnx"].__setitem__("sha256", sha))


def cut_style_dim(doc: dict) -> None:
    doc["style_dim"] = 6
    doc["styles"] = {k: v[:6] for k, v in doc["styles"].items()}
    if doc.get("style_prior"):  # consistent with itself: only the graph can tell
        doc["style_prior"]["mean"] = doc["style_prior"]["mean"][:6]
        doc["style_prior"]["chol"] = [row[:6] for row in doc["style_prior"]["chol"][:6]]


def skew_prior(doc: dict) -> None:
    """A style prior whose factor is not lower-triangular (a hand-edited covariance)."""
    n = doc["style_dim"]
    chol = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    chol[0][1] = 0.5
    doc["style_prior"] = {"mean": [0.0] * n, "chol": chol, "frames": 16, "source": "x.mp4"}


def add_aux(doc: dict, channels: list[dict]) -> None:
    doc["inputs"].append({"name": "aux", "dtype": "float32", "channels": channels})


def set_path(doc: dict, keys: tuple, value: object) -> None:
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value


def truncate(folder: Path, name: str) -> None:
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 2])


MJ = "{mj}"  # replaced by the case's model.json path
# What the shipped model declares (the corpus corrupts a copy of it).
SD = json.loads((DEFAULT_MODEL / "model.json").read_text())["style_dim"]
HALF_WEIGHTS = (DEFAULT_MODEL / "generator.safetensors").stat().st_size // 2
# (case id, corruption, exact message or message prefix ending in "...")
CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("input renamed in model.json",
     lambda f: edit_json(f, lambda d: d["inputs"][0].__setitem__("name", "img")),
     f"{MJ}: inputs[0].name: expected one of ['image', 'style', 'aux'] (the graph inputs the "
     "runtime feeds), each once, found 'img'"),
    ("input renamed in model.onnx", rename_graph_input,
     f"{MJ}: inputs: expected ['image', 'style'] (model.json), found ['img', 'style'] in "
     "model.onnx"),
    ("style_dim edited", lambda f: edit_json(f, lambda d: d.__setitem__("style_dim", 6)),
     f"{MJ}: style_dim: expected {SD} (the length of every code in styles), found 6"),
    ("style_dim and bank edited", lambda f: edit_json(f, cut_style_dim),
     f"{MJ}: style_dim: expected {SD} (width of input 'style' in model.onnx), found 6"),
    ("style prior not a Cholesky factor", lambda f: edit_json(f, skew_prior),
     f"{MJ}: style_prior.chol: expected lower-triangular with a positive diagonal (a "
     "Cholesky factor), found another matrix"),
    ("unknown aux name", lambda f: edit_json(f, lambda d: add_aux(d, [
        {"name": "normals", "topic": "normals", "encoding": "32FC3", "channels": 3}])),
     f"{MJ}: inputs.aux.channels[0].name: expected one of ['depth', 'uv'], found 'normals'"),
    ("aux channels unlike the registry", lambda f: edit_json(f, lambda d: add_aux(d, [
        {"name": "uv", "topic": "uv", "encoding": "32FC2", "channels": 3}])),
     f"{MJ}: inputs.aux.channels[0].channels: expected 2 (channels of 'uv'), found 3"),
    ("aux the graph does not have", lambda f: edit_json(f, lambda d: add_aux(d, [
        {"name": "uv", "topic": "uv", "encoding": "32FC2", "channels": 2}])),
     f"{MJ}: inputs: expected ['image', 'style', 'aux'] (model.json), found ['image', "
     "'style'] in model.onnx"),
    ("styles is a list", lambda f: edit_json(f, lambda d: d.__setitem__("styles", [[0.0]])),
     f"{MJ}: styles: expected a JSON object, found list [[0.0]]"),
    ("a style code is text",
     lambda f: edit_json(f, lambda d: d["styles"].__setitem__("default", "abc")),
     f"{MJ}: styles.default: expected a JSON array, found 'abc'"),
    ("NaN in a style", lambda f: edit_json(f, lambda d: d["styles"]["seed_3"].__setitem__(
        2, float("nan"))),
     f"{MJ}: styles.seed_3[2]: expected a finite number, found nan"),
    ("default_style not in the bank",
     lambda f: edit_json(f, lambda d: d.__setitem__("default_style", "pink")),
     f"{MJ}: default_style: expected a name in the style bank ['default', 'seed_0', 'seed_1', "
     "'seed_2', 'seed_3', 'seed_4', 'seed_5', 'seed_6', 'seed_7'], found 'pink'"),
    ("size_multiple 0", lambda f: edit_json(f, lambda d: d.__setitem__("size_multiple", 0)),
     f"{MJ}: size_multiple: expected an integer in [1, 512], found 0"),
    ("size_multiple text",
     lambda f: edit_json(f, lambda d: d.__setitem__("size_multiple", "abc")),
     f"{MJ}: size_multiple: expected an integer in [1, 512], found 'abc'"),
    ("size_multiple huge",
     lambda f: edit_json(f, lambda d: d.__setitem__("size_multiple", 10**9)),
     f"{MJ}: size_multiple: expected an integer in [1, 512], found 1000000000"),
    ("size_multiple bool",
     lambda f: edit_json(f, lambda d: d.__setitem__("size_multiple", True)),
     f"{MJ}: size_multiple: expected an integer in [1, 512], found True"),
    ("working_resolution text",
     lambda f: edit_json(f, lambda d: d.__setitem__("working_resolution", "abc")),
     f"{MJ}: working_resolution: expected a JSON array, found 'abc'"),
    ("working_resolution zero",
     lambda f: edit_json(f, lambda d: d.__setitem__("working_resolution", [0, 256])),
     f"{MJ}: working_resolution: expected an integer in [1, 16384], found 0"),
    ("working_resolution huge",
     lambda f: edit_json(f, lambda d: d.__setitem__("working_resolution", [10**9, 256])),
     f"{MJ}: working_resolution: expected an integer in [1, 16384], found 1000000000"),
    ("working_resolution not a multiple",
     lambda f: edit_json(f, lambda d: d.__setitem__("working_resolution", [250, 256])),
     f"{MJ}: working_resolution: expected [H, W], multiples of size_multiple 8 in [8, 16384], "
     "found list [250, 256]"),
    ("onnx.file outside", lambda f: edit_json(f, lambda d: set_path(d, ("onnx", "file"),
                                                                    "../x.onnx")),
     f"{MJ}: onnx.file: expected a file name inside the model folder {{folder}}, found "
     "'../x.onnx'"),
    ("onnx.file absolute", lambda f: edit_json(f, lambda d: set_path(d, ("onnx", "file"),
                                                                     "/etc/hostname")),
     f"{MJ}: onnx.file: expected a file name inside the model folder {{folder}}, found "
     "'/etc/hostname'"),
    ("style_encoder outside",
     lambda f: edit_json(f, lambda d: d.__setitem__("style_encoder", "a/../../x.onnx")),
     f"{MJ}: style_encoder: expected a file name inside the model folder {{folder}}, found "
     "'a/../../x.onnx'"),
    ("torch.weights outside", lambda f: edit_json(f, lambda d: set_path(d, ("torch", "weights"),
                                                                        "../w.safetensors")),
     f"{MJ}: torch.weights: expected a file name inside the model folder {{folder}}, found "
     "'../w.safetensors'"),
    ("style encoder file missing", lambda f: (f / "style_encoder.onnx").unlink(),
     f"{MJ}: style_encoder: expected the file {{folder}}/style_encoder.onnx, found nothing "
     "there"),
    ("style encoder corrupt", lambda f: truncate(f, "style_encoder.onnx"),
     f"{MJ}: style_encoder: expected a readable ONNX model, found style_encoder.onnx that "
     "does not parse (..."),
    ("generator.safetensors truncated", lambda f: truncate(f, "generator.safetensors"),
     f"{MJ}: torch.weights: expected a complete safetensors file, found generator.safetensors "
     f"of {HALF_WEIGHTS} bytes that does not parse (..."),
    ("output normalisation not the inverse",
     lambda f: edit_json(f, lambda d: d["outputs"][0].__setitem__(
         "normalization", {"scale": 255.0, "offset": 0.0})),
     f"{MJ}: outputs.output.normalization: expected {{'scale': 127.5..."),
    ("normalisation scale zero",
     lambda f: edit_json(f, lambda d: d["inputs"][0]["normalization"].__setitem__("scale", 0)),
     f"{MJ}: inputs.image.normalization.scale: expected a non-zero number, found 0.0"),
    ("format_version", lambda f: edit_json(f, lambda d: d.__setitem__("format_version", 2)),
     f"{MJ}: format_version: expected 1, found 2; re-export the model"),
]


@pytest.fixture()
def case_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models" / "hostile"
    shutil.copytree(DEFAULT_MODEL, folder)
    (tmp_path / "models" / "x.onnx").write_bytes((folder / "model.onnx").read_bytes())
    return folder


def _expect(template: str, folder: Path) -> str:
    return template.replace(MJ, str(folder / "model.json")).replace("{folder}", str(folder))


def _matches(message: str, expected: str) -> bool:
    if expected.endswith("..."):
        return message.startswith(expected[:-3])
    return message == expected


@pytest.mark.parametrize("corrupt,template", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_artifact_one_line_and_untouched(case_dir: Path, corrupt: Callable,
                                                 template: str) -> None:
    corrupt(case_dir)
    before = snapshot(case_dir.parent)
    expected = _expect(template, case_dir)
    for load in (lambda: load_manifest(case_dir),
                 lambda: Translator.from_artifact(case_dir, backend="onnxruntime"),
                 lambda: Translator.from_artifact(case_dir, backend="torch")):
        with pytest.raises(ArtifactError) as info:
            load()
        message = str(info.value)
        assert "\n" not in message and _matches(message, expected), message
    assert snapshot(case_dir.parent) == before


def test_missing_files_are_also_file_not_found(case_dir: Path) -> None:
    (case_dir / "style_encoder.onnx").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_manifest(case_dir)
    assert isinstance(info.value, ArtifactFileMissing)


def test_cli_reports_a_hostile_artifact_in_one_line(case_dir: Path, tmp_path: Path) -> None:
    from sim2real_gan.pipeline.sim_source import simulate_to_bag

    simulate_to_bag(tmp_path / "in", frames=1, width=32, height=32, seed=2)
    edit_json(case_dir, lambda d: d["styles"]["seed_3"].__setitem__(2, float("nan")))
    before = snapshot(tmp_path)
    r = subprocess.run([sys.executable, "-m", "sim2real_gan.cli.main", "translate-bag",
                        str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(case_dir),
                        "--no-progress"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"sim2real-gan: error: {case_dir / 'model.json'}: styles.seed_3[2]: "
                      "expected a finite number, found nan"]
    assert snapshot(tmp_path) == before  # no output, inputs untouched


@pytest.fixture(scope="module")
def uv_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny exported generator that reads ``uv`` (2 aux channels)."""
    import torch
    from sim2real_gan.export import ExportOptions, export_artifact
    from sim2real_gan.models import build_generator, get_preset, save_generator

    base = tmp_path_factory.mktemp("uv")
    cfg = get_preset("tiny", aux_channels=("uv",))
    torch.manual_seed(0)
    save_generator(base / "ckpt", build_generator(cfg), cfg, meta={"resolution": [32, 32]})
    export_artifact(base / "ckpt", base / "model", ExportOptions(seeds=1))
    return base / "model"


def test_aux_channel_count_checked_against_the_graph(uv_artifact: Path, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(uv_artifact, folder)
    load_manifest(folder)  # as exported: fine
    edit_json(folder, lambda d: d["inputs"][2]["channels"].append(
        {"name": "depth", "topic": "depth", "encoding": "32FC1", "channels": 1}))
    before = snapshot(folder)
    with pytest.raises(ArtifactError) as info:
        load_manifest(folder)
    assert str(info.value) == (f"{folder / 'model.json'}: inputs.aux.channels: expected 2 "
                               "channels in all (input 'aux' of model.onnx), found 3 (uv 2, "
                               "depth 1)")
    assert snapshot(folder) == before
