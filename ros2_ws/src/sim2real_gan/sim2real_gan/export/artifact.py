"""The model artifact: ``model.json`` schema, content hashes and loading with clear errors.

An artifact is a directory::

    model.onnx            inputs image (B,3,H,W), style (B,S)[, aux (B,A,H,W)] -> output (B,3,H,W)
    model.json            this module's :class:`ModelManifest`
    generator.safetensors + config.json   the PyTorch generator (torch backend)
    style_encoder.onnx    optional: reference image (B,3,H,W) -> style code (B,S)

All tensors are float32 at the graph boundary; ``image`` and ``output`` are RGB in [-1, 1]
(``pixel / 127.5 - 1``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT_NAME = "sim2real_gan.model"
FORMAT_VERSION = 1
MANIFEST_FILE = "model.json"
ONNX_FILE = "model.onnx"
STYLE_ENCODER_FILE = "style_encoder.onnx"
WEIGHTS_FILE = "generator.safetensors"
CONFIG_FILE = "config.json"


class ArtifactError(ValueError):
    """A model artifact is missing, corrupt, or does not match what the caller expects."""


@dataclass(frozen=True)
class AuxSource:
    """One auxiliary input stream concatenated (in manifest order) into the ``aux`` tensor.

    ``name`` is the keyword the runtime accepts (``uv``, ``depth``); ``topic`` is the topic
    suffix under the camera namespace and ``encoding`` its sensor_msgs/Image encoding.
    """

    name: str
    topic: str
    encoding: str
    channels: int
    description: str = ""


# Explicit registry of the auxiliary streams a generator may consume.
AUX_SOURCES: dict[str, AuxSource] = {
    "uv": AuxSource("uv", "uv", "32FC2", 2, "surface texture coordinates in [0, 1]"),
    "depth": AuxSource("depth", "depth", "32FC1", 1, "metric depth in metres"),
}


@dataclass
class ModelManifest:
    """Everything a runtime needs to feed the exported graph (serialised as ``model.json``)."""

    preset: str
    style_dim: int
    working_resolution: tuple[int, int]  # (H, W) the model was trained at
    size_multiple: int  # H and W fed to the graph must be multiples of this
    aux: list[AuxSource] = field(default_factory=list)
    styles: dict[str, list[float]] = field(default_factory=dict)
    default_style: str = "default"
    image_topic: str = "image_raw"
    image_encodings: tuple[str, ...] = ("rgb8", "bgr8")
    onnx_file: str = ONNX_FILE
    onnx_sha256: str = ""
    opset: int = 17
    fp16_internal: bool = False
    style_encoder_file: str | None = None
    content_hash: str = ""
    parity: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def aux_channels(self) -> int:
        """Total channel count ``A`` of the ``aux`` input (0 when the model takes none)."""
        return sum(a.channels for a in self.aux)

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON document written to ``model.json``."""
        inputs: list[dict[str, Any]] = [
            {"name": "image", "shape": ["batch", 3, "height", "width"], "dtype": "float32",
             "layout": "NCHW RGB", "normalization": {"scale": 1 / 127.5, "offset": -1.0},
             "source": {"topic": self.image_topic, "encodings": list(self.image_encodings)}},
            {"name": "style", "shape": ["batch", self.style_dim], "dtype": "float32"},
        ]
        if self.aux:
            inputs.append({"name": "aux", "shape": ["batch", self.aux_channels, "height", "width"],
                           "dtype": "float32", "channels": [asdict(a) for a in self.aux]})
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "preset": self.preset,
            "inputs": inputs,
            "outputs": [{"name": "output", "shape": ["batch", 3, "height", "width"],
                         "dtype": "float32", "layout": "NCHW RGB",
                         "normalization": {"scale": 127.5, "offset": 127.5}}],
            "working_resolution": list(self.working_resolution),
            "size_multiple": self.size_multiple,
            "style_dim": self.style_dim,
            "styles": self.styles,
            "default_style": self.default_style,
            "onnx": {"file": self.onnx_file, "sha256": self.onnx_sha256, "opset": self.opset,
                     "fp16_internal": self.fp16_internal},
            "style_encoder": self.style_encoder_file,
            "torch": {"weights": WEIGHTS_FILE, "config": CONFIG_FILE},
            "content_hash": self.content_hash,
            "parity": self.parity,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str = MANIFEST_FILE) -> ModelManifest:
        """Parse a ``model.json`` document; raises :class:`ArtifactError` naming the bad field."""
        if doc.get("format") != FORMAT_NAME:
            raise ArtifactError(f"{where}: expected format {FORMAT_NAME!r}, got {doc.get('format')!r}")
        if doc.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"{where}: expected format_version {FORMAT_VERSION}, "
                                f"got {doc.get('format_version')!r}; re-export the model")
        try:
            by_name = {i["name"]: i for i in doc["inputs"]}
            aux = [AuxSource(**c) for c in by_name.get("aux", {}).get("channels", [])]
            image_src = by_name["image"]["source"]
            onnx_doc = doc["onnx"]
            manifest = cls(
                preset=str(doc["preset"]),
                style_dim=int(doc["style_dim"]),
                working_resolution=(int(doc["working_resolution"][0]),
                                    int(doc["working_resolution"][1])),
                size_multiple=int(doc["size_multiple"]),
                aux=aux,
                styles={k: [float(x) for x in v] for k, v in doc["styles"].items()},
                default_style=str(doc["default_style"]),
                image_topic=str(image_src["topic"]),
                image_encodings=tuple(image_src["encodings"]),
                onnx_file=str(onnx_doc["file"]),
                onnx_sha256=str(onnx_doc["sha256"]),
                opset=int(onnx_doc["opset"]),
                fp16_internal=bool(onnx_doc["fp16_internal"]),
                style_encoder_file=doc.get("style_encoder"),
                content_hash=str(doc["content_hash"]),
                parity=dict(doc.get("parity", {})),
                extra=dict(doc.get("extra", {})),
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise ArtifactError(f"{where}: missing or malformed field {exc!s}") from exc
        manifest.validate(where)
        return manifest

    def validate(self, where: str = MANIFEST_FILE) -> None:
        """Check internal consistency (style codes have ``style_dim`` entries, etc.)."""
        if self.style_dim <= 0 or self.size_multiple <= 0:
            raise ArtifactError(f"{where}: style_dim and size_multiple must be positive, got "
                                f"{self.style_dim} and {self.size_multiple}")
        for name, code in self.styles.items():
            if len(code) != self.style_dim:
                raise ArtifactError(f"{where}: style {name!r} has {len(code)} values, "
                                    f"expected style_dim={self.style_dim}")
        if self.styles and self.default_style not in self.styles:
            raise ArtifactError(f"{where}: default_style {self.default_style!r} is not in the "
                                f"style bank {sorted(self.styles)}")
        for a in self.aux:
            if a.channels <= 0:
                raise ArtifactError(f"{where}: aux source {a.name!r} has {a.channels} channels")


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
    """Write ``model.json`` into ``directory``."""
    path = Path(directory) / MANIFEST_FILE
    path.write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
    return path


def load_manifest(directory: str | Path, verify_hash: bool = True) -> ModelManifest:
    """Read and check an artifact's ``model.json`` (and, by default, the ONNX file's hash).

    Raises:
        FileNotFoundError: the directory, ``model.json`` or ``model.onnx`` does not exist.
        ArtifactError: the manifest is not valid JSON / not our schema, or model.onnx's
            SHA-256 differs from the one recorded at export (a corrupt or replaced file).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"model artifact directory not found: {directory}")
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a sim2real_gan model artifact "
                                f"(run `sim2real-gan export CHECKPOINT {directory}`)")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc}); the artifact is corrupt") from exc
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    manifest = ModelManifest.from_json(doc, str(path))
    onnx_path = directory / manifest.onnx_file
    if not onnx_path.is_file():
        raise FileNotFoundError(f"{onnx_path} not found (listed in {path})")
    if verify_hash and manifest.onnx_sha256 and sha256_file(onnx_path) != manifest.onnx_sha256:
        raise ArtifactError(f"{onnx_path} does not match the SHA-256 recorded in {path}: "
                            f"the file is corrupt or was replaced; re-export the model")
    return manifest
