"""Reading and writing an artifact directory: ``load_manifest`` with every check, hashes,
``write_manifest``. No torch; ``onnx`` and ``safetensors`` only to read headers.

``load_manifest`` checks, in order, each failure one :class:`ArtifactError` line:
JSON and schema (types, bounds) -> fields against each other (style bank, aux registry,
sizes) -> every file reference inside the model folder -> model.onnx present and matching its
SHA-256 -> model.onnx's inputs and outputs vs model.json -> the style encoder graph ->
generator.safetensors readable (when present).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .fields import ArtifactError, ArtifactFileMissing, fail
from .graph import check_encoder_graph, check_generator_graph
from .manifest import ModelManifest
from .registry import MANIFEST_FILE


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def content_hash(directory: Path, files: list[str]) -> str:
    """Hash of the named files (name + bytes hash), identifying the model's content."""
    h = hashlib.sha256()
    for name in sorted(files):
        path = directory / name
        if path.exists():
            h.update(name.encode())
            h.update(sha256_file(path).encode())
    return h.hexdigest()


def write_manifest(directory: Path, manifest: ModelManifest) -> Path:
    """Write ``model.json`` into ``directory`` (a fresh directory being built atomically)."""
    path = Path(directory) / MANIFEST_FILE
    path.write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
    return path


def inside(directory: Path, name: str, field: str, where: str) -> Path:
    """``directory / name`` when the name stays inside ``directory``: relative, no ``..``,
    not the folder itself; else an error naming ``field``. (Links placed in the folder by
    whoever installed it are followed: ``colcon build --symlink-install`` makes every file
    of an installed model a link into the source tree.)"""
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or rel.anchor or not rel.parts:
        raise fail(where, field, f"a file name inside the model folder {directory}", name)
    return directory / rel


def read_manifest_doc(path: Path) -> dict:
    """``model.json`` parsed as a JSON object (NaN/Infinity are read, and caught later)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a sim2real_gan model artifact "
                                f"(run `sim2real-gan export CHECKPOINT {path.parent}`)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc}); the artifact is corrupt") from exc
    if not isinstance(doc, dict):
        raise fail(str(path), "(document)", "a JSON object", type(doc).__name__, literal=True)
    return doc


def load_manifest(directory: str | Path, verify_hash: bool = True) -> ModelManifest:
    """Read and check an artifact's ``model.json`` against the files and graphs beside it.

    Raises:
        FileNotFoundError: the directory, ``model.json`` or ``model.onnx`` does not exist
            (a missing file named in model.json is an :class:`ArtifactFileMissing`, both a
            FileNotFoundError and an ArtifactError).
        ArtifactError: anything else that is wrong, as one line naming the field, what was
            expected and what was found.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"model artifact directory not found: {directory}")
    path = directory / MANIFEST_FILE
    where = str(path)
    manifest = ModelManifest.from_json(read_manifest_doc(path), where)
    onnx_path = _required(directory, manifest.onnx_file, "onnx.file", where)
    encoder = (None if manifest.style_encoder_file is None else
               _required(directory, manifest.style_encoder_file, "style_encoder", where))
    weights = inside(directory, manifest.weights_file, "torch.weights", where)
    inside(directory, manifest.config_file, "torch.config", where)
    if verify_hash and manifest.onnx_sha256 and sha256_file(onnx_path) != manifest.onnx_sha256:
        raise ArtifactError(f"{where}: onnx.sha256: expected {manifest.onnx_sha256[:16]}... "
                            f"(recorded at export), found {sha256_file(onnx_path)[:16]}... for "
                            f"{onnx_path.name}: the file is corrupt or was replaced; re-export "
                            f"the model")
    check_generator_graph(manifest, onnx_path, where)
    if encoder is not None:
        check_encoder_graph(manifest, encoder, where)
    if weights.is_file():
        check_weights(weights, where)
    return manifest


def _required(directory: Path, name: str, field: str, where: str) -> Path:
    path = inside(directory, name, field, where)
    if not path.is_file():
        raise ArtifactFileMissing(f"{where}: {field}: expected the file {path}, found nothing "
                                  f"there")
    return path


def check_weights(path: Path, where: str) -> None:
    """``generator.safetensors``: header readable and covering exactly the file's bytes."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            f.keys()
    except SafetensorError as exc:
        raise fail(where, "torch.weights", "a complete safetensors file",
                   f"{path.name} of {path.stat().st_size} bytes that does not parse ({exc}); "
                   f"re-export the model", literal=True) from exc
