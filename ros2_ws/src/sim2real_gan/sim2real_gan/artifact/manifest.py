"""``model.json``: the manifest of a model artifact (schema, parsing, consistency). No torch.

An artifact is a directory::

    model.onnx            inputs image (B,3,H,W), style (B,S)[, aux (B,A,H,W)] -> output (B,3,H,W)
    model.json            this module's :class:`ModelManifest`
    generator.safetensors + config.json   the PyTorch generator (torch backend)
    style_encoder.onnx    optional: reference image (B,3,H,W) -> style code (B,S)

All tensors are float32 at the graph boundary; ``image`` and ``output`` are RGB in the range
given by :attr:`ModelManifest.normalisation` (``[-1, 1]``, ``x = pixel / 127.5 - 1``, for every
model exported so far; older model.json files without the field get that default).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .fields import ArtifactError, as_bool, as_int, as_list, as_number, as_object, as_str, fail, get
from .registry import (
    AUX_SOURCES,
    CONFIG_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    GRAPH_INPUTS,
    GRAPH_OUTPUT,
    MANIFEST_FILE,
    MAX_SIDE,
    MAX_SIZE_MULTIPLE,
    MAX_STYLE_DIM,
    NET_RANGE,
    ONNX_FILE,
    WEIGHTS_FILE,
    AuxSource,
    Normalisation,
)


@dataclass
class StylePrior:
    """The distribution random style codes are drawn from: ``mean + chol @ z``, z ~ N(0, I),
    fitted at export to the style codes of target-domain frames (``sim2real-gan export
    --style-prior``), so a seed or ``random`` gives a look like the footage's. ``frames``:
    how many frames it was fitted to; ``source``: their file or folder names."""

    mean: list[float]
    chol: list[list[float]]  # lower-triangular Cholesky factor of the codes' covariance
    frames: int
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "chol": self.chol, "frames": self.frames,
                "source": self.source}

    @classmethod
    def from_json(cls, value: Any, where: str) -> StylePrior:
        doc = as_object(value, where, "style_prior")
        mean = [as_number(v, where, f"style_prior.mean[{i}]")
                for i, v in enumerate(as_list(get(doc, "mean", where, "style_prior.mean"),
                                              where, "style_prior.mean"))]
        rows = as_list(get(doc, "chol", where, "style_prior.chol"), where, "style_prior.chol")
        chol = [[as_number(v, where, f"style_prior.chol[{i}][{j}]")
                 for j, v in enumerate(as_list(row, where, f"style_prior.chol[{i}]"))]
                for i, row in enumerate(rows)]
        return cls(mean, chol, as_int(get(doc, "frames", where, "style_prior.frames"), where,
                                      "style_prior.frames", 2, 10**9),
                   as_str(doc.get("source", ""), where, "style_prior.source", True))


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
    normalisation: Normalisation = NET_RANGE  # image in: value = pixel * scale + offset
    onnx_file: str = ONNX_FILE
    onnx_sha256: str = ""
    opset: int = 17
    fp16_internal: bool = False
    style_encoder_file: str | None = None
    weights_file: str = WEIGHTS_FILE  # torch backend
    config_file: str = CONFIG_FILE
    content_hash: str = ""
    parity: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    style_prior: StylePrior | None = None  # None: seeds are N(0, I) codes

    @property
    def aux_channels(self) -> int:
        """Total channel count ``A`` of the ``aux`` input (0 when the model takes none)."""
        return sum(a.channels for a in self.aux)

    @property
    def graph_inputs(self) -> list[str]:
        """Names of model.onnx's inputs, in order: image[, style][, aux]."""
        return ["image"] + (["style"] if self.style_dim else []) + (["aux"] if self.aux else [])

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON document written to ``model.json``."""
        inputs: list[dict[str, Any]] = [
            {"name": "image", "shape": ["batch", 3, "height", "width"], "dtype": "float32",
             "layout": "NCHW RGB", "normalization": self.normalisation.to_json(),
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
            "outputs": [{"name": GRAPH_OUTPUT, "shape": ["batch", 3, "height", "width"],
                         "dtype": "float32", "layout": "NCHW RGB",
                         "normalization": self.normalisation.inverse().to_json()}],
            "working_resolution": list(self.working_resolution),
            "size_multiple": self.size_multiple,
            "style_dim": self.style_dim,
            "styles": self.styles,
            "default_style": self.default_style,
            "onnx": {"file": self.onnx_file, "sha256": self.onnx_sha256, "opset": self.opset,
                     "fp16_internal": self.fp16_internal},
            "style_encoder": self.style_encoder_file,
            "torch": {"weights": self.weights_file, "config": self.config_file},
            "content_hash": self.content_hash,
            "parity": self.parity,
            "extra": self.extra,
            **({"style_prior": self.style_prior.to_json()} if self.style_prior else {}),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], where: str = MANIFEST_FILE,
                  validate: bool = True) -> ModelManifest:
        """Parse a ``model.json`` document; raises :class:`ArtifactError` naming the bad field.

        Types and bounds are checked here; ``validate`` also checks the fields against each
        other (:meth:`validate`); ``load_manifest`` then checks them against the files.
        """
        doc = as_object(doc, where, "(document)")
        _check_format(doc, where)
        inputs = _inputs_by_name(doc, where)
        onnx_doc = as_object(get(doc, "onnx", where), where, "onnx")
        torch_doc = as_object(doc.get("torch", {}), where, "torch")
        image_src = as_object(get(inputs["image"], "source", where, "inputs.image.source"),
                              where, "inputs.image.source")
        style_encoder = doc.get("style_encoder")
        manifest = cls(
            preset=as_str(get(doc, "preset", where), where, "preset"),
            style_dim=as_int(get(doc, "style_dim", where), where, "style_dim", 1, MAX_STYLE_DIM),
            working_resolution=_resolution(get(doc, "working_resolution", where), where),
            size_multiple=as_int(get(doc, "size_multiple", where), where, "size_multiple", 1,
                                 MAX_SIZE_MULTIPLE),
            aux=_aux_sources(inputs.get("aux"), where),
            styles=_styles(get(doc, "styles", where), where),
            default_style=as_str(get(doc, "default_style", where), where, "default_style"),
            image_topic=as_str(get(image_src, "topic", where, "inputs.image.source.topic"),
                               where, "inputs.image.source.topic"),
            image_encodings=tuple(as_str(e, where, "inputs.image.source.encodings[]") for e in
                                  as_list(get(image_src, "encodings", where),
                                          where, "inputs.image.source.encodings")),
            normalisation=_normalisation(inputs["image"], _output(doc, where), where),
            onnx_file=as_str(get(onnx_doc, "file", where, "onnx.file"), where, "onnx.file"),
            onnx_sha256=as_str(onnx_doc.get("sha256", ""), where, "onnx.sha256", True),
            opset=as_int(onnx_doc.get("opset", 17), where, "onnx.opset", 1, 1000),
            fp16_internal=as_bool(onnx_doc.get("fp16_internal", False), where,
                                  "onnx.fp16_internal"),
            style_encoder_file=None if style_encoder is None
            else as_str(style_encoder, where, "style_encoder"),
            weights_file=as_str(torch_doc.get("weights", WEIGHTS_FILE), where, "torch.weights"),
            config_file=as_str(torch_doc.get("config", CONFIG_FILE), where, "torch.config"),
            content_hash=as_str(doc.get("content_hash", ""), where, "content_hash", True),
            parity=as_object(doc.get("parity", {}), where, "parity"),
            extra=as_object(doc.get("extra", {}), where, "extra"),
            style_prior=None if doc.get("style_prior") is None
            else StylePrior.from_json(doc["style_prior"], where),
        )
        if validate:
            manifest.validate(where)
        return manifest

    def validate(self, where: str = MANIFEST_FILE) -> None:
        """Check the fields against each other: bounds, style codes with ``style_dim`` finite
        values, the default style in the bank, aux entries matching the registry, a working
        resolution that is a multiple of ``size_multiple``."""
        if not 1 <= self.style_dim <= MAX_STYLE_DIM:
            raise fail(where, "style_dim", f"an integer in [1, {MAX_STYLE_DIM}]", self.style_dim)
        m = self.size_multiple
        if not 1 <= m <= MAX_SIZE_MULTIPLE:
            raise fail(where, "size_multiple", f"an integer in [1, {MAX_SIZE_MULTIPLE}]", m)
        if any(v % m or not m <= v <= MAX_SIDE for v in self.working_resolution):
            raise fail(where, "working_resolution", f"[H, W], multiples of size_multiple {m} "
                       f"in [{m}, {MAX_SIDE}]", list(self.working_resolution))
        lengths = {len(code) for code in self.styles.values()}
        if len(lengths) == 1 and lengths != {self.style_dim}:  # all codes agree: style_dim is off
            raise fail(where, "style_dim", f"{lengths.pop()} (the length of every code in styles)",
                       self.style_dim)
        for name, code in self.styles.items():
            if len(code) != self.style_dim:
                raise fail(where, f"styles.{name}", f"{self.style_dim} values (style_dim)",
                           f"{len(code)} values", literal=True)
            bad = [i for i, v in enumerate(code) if not math.isfinite(v)]
            if bad:
                raise fail(where, f"styles.{name}[{bad[0]}]", "a finite number", code[bad[0]])
        if self.styles and self.default_style not in self.styles:
            raise fail(where, "default_style", f"a name in the style bank {sorted(self.styles)}",
                       self.default_style)
        if self.style_prior is not None:
            self._validate_prior(where)
        for i, a in enumerate(self.aux):
            known = AUX_SOURCES.get(a.name)
            if known is None:
                raise fail(where, f"inputs.aux.channels[{i}].name",
                           f"one of {sorted(AUX_SOURCES)}", a.name)
            if a.channels != known.channels:
                raise fail(where, f"inputs.aux.channels[{i}].channels",
                           f"{known.channels} (channels of {a.name!r})", a.channels)


# ------------------------------------------------------------------------------ parsing
    def _validate_prior(self, where: str) -> None:
        """The prior's mean has style_dim finite values, its factor is a finite lower-
        triangular style_dim x style_dim matrix with a positive diagonal."""
        pr, n = self.style_prior, self.style_dim
        if len(pr.mean) != n:
            raise fail(where, "style_prior.mean", f"{n} values (style_dim)",
                       f"{len(pr.mean)} values", literal=True)
        if len(pr.chol) != n or any(len(row) != n for row in pr.chol):
            raise fail(where, "style_prior.chol", f"a {n} x {n} matrix (style_dim)",
                       f"{len(pr.chol)} rows of {sorted({len(r) for r in pr.chol})} values",
                       literal=True)
        values = list(pr.mean) + [v for row in pr.chol for v in row]
        if not all(math.isfinite(v) for v in values):
            raise fail(where, "style_prior", "finite numbers", "NaN or infinity", literal=True)
        if any(pr.chol[i][j] != 0 for i in range(n) for j in range(i + 1, n)) or any(
                pr.chol[i][i] <= 0 for i in range(n)):
            raise fail(where, "style_prior.chol", "lower-triangular with a positive diagonal "
                       "(a Cholesky factor)", "another matrix", literal=True)


def _check_format(doc: dict[str, Any], where: str) -> None:
    if doc.get("format") != FORMAT_NAME:
        raise fail(where, "format", repr(FORMAT_NAME), doc.get("format"))
    if doc.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{where}: format_version: expected {FORMAT_VERSION}, found "
                            f"{doc.get('format_version')!r}; re-export the model")


def _inputs_by_name(doc: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """``inputs`` as {name: entry}; every name is one the runtime feeds, image and style
    are present (the style input is required: style_dim >= 1)."""
    by_name: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(as_list(get(doc, "inputs", where), where, "inputs")):
        entry = as_object(entry, where, f"inputs[{i}]")
        name = get(entry, "name", where, f"inputs[{i}].name")
        if name not in GRAPH_INPUTS or name in by_name:
            raise fail(where, f"inputs[{i}].name", f"one of {list(GRAPH_INPUTS)} (the graph "
                       "inputs the runtime feeds), each once", name)
        by_name[name] = entry
    for name in ("image", "style"):
        if name not in by_name:
            raise fail(where, "inputs", f"an entry named {name!r}", f"names {list(by_name)}", literal=True)
    return by_name


def _output(doc: dict[str, Any], where: str) -> dict[str, Any]:
    outputs = [as_object(o, where, f"outputs[{i}]")
               for i, o in enumerate(as_list(get(doc, "outputs", where), where, "outputs"))]
    names = [o.get("name") for o in outputs]
    if names != [GRAPH_OUTPUT]:
        raise fail(where, "outputs", f"one entry named {GRAPH_OUTPUT!r}", f"names {names}", literal=True)
    return outputs[0]


def _resolution(value: Any, where: str) -> tuple[int, int]:
    items = as_list(value, where, "working_resolution")
    if len(items) != 2:
        raise fail(where, "working_resolution", "[H, W]", value)
    h, w = (as_int(v, where, "working_resolution", 1, MAX_SIDE) for v in items)
    return h, w


def _aux_sources(entry: dict[str, Any] | None, where: str) -> list[AuxSource]:
    if entry is None:
        return []
    channels = as_list(get(entry, "channels", where, "inputs.aux.channels"), where,
                       "inputs.aux.channels")
    if not channels:
        raise fail(where, "inputs.aux.channels", "at least one aux stream", channels)
    out = []
    for i, c in enumerate(channels):
        f = f"inputs.aux.channels[{i}]"
        c = as_object(c, where, f)
        out.append(AuxSource(
            name=as_str(get(c, "name", where, f"{f}.name"), where, f"{f}.name"),
            topic=as_str(get(c, "topic", where, f"{f}.topic"), where, f"{f}.topic"),
            encoding=as_str(get(c, "encoding", where, f"{f}.encoding"), where, f"{f}.encoding"),
            channels=as_int(get(c, "channels", where, f"{f}.channels"), where, f"{f}.channels",
                            1, 64),
            description=as_str(c.get("description", ""), where, f"{f}.description", True)))
    return out


def _styles(value: Any, where: str) -> dict[str, list[float]]:
    bank = as_object(value, where, "styles")
    out = {}
    for name, code in bank.items():
        out[name] = [as_number(v, where, f"styles.{name}[{i}]")
                     for i, v in enumerate(as_list(code, where, f"styles.{name}"))]
    return out


def _normalisation(image: dict[str, Any], output: dict[str, Any], where: str) -> Normalisation:
    """The image input's normalisation; the output's must be its inverse. Artifacts written
    before the field existed get :data:`NET_RANGE`."""
    if "normalization" not in image:
        return NET_RANGE
    norm = Normalisation.from_json(image["normalization"], where, "inputs.image.normalization")
    if "normalization" in output:
        out = Normalisation.from_json(output["normalization"], where,
                                      "outputs.output.normalization")
        if not out.close_to(norm.inverse()):
            raise fail(where, "outputs.output.normalization",
                       f"{norm.inverse().to_json()} (the inverse of inputs.image.normalization)",
                       out.to_json())
    return norm
