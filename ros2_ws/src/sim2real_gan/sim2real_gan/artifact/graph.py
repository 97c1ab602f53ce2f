"""Check a manifest against its ONNX graphs (names, channels, style width, aux), using
``onnx`` to read the graph inputs and outputs (no torch, no inference session).

Every mismatch is one :class:`ArtifactError` line naming the field and both values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fields import ArtifactError, fail
from .manifest import ModelManifest
from .registry import ENCODER_INPUT, ENCODER_OUTPUT, GRAPH_OUTPUT

FLOAT = 1  # onnx.TensorProto.FLOAT


@dataclass(frozen=True)
class TensorInfo:
    """One graph input or output: name, element type (onnx.TensorProto code) and dims
    (an int for a fixed size, a string for a named dynamic axis, None when unknown)."""

    name: str
    elem_type: int
    dims: tuple[int | str | None, ...]

    def dim(self, i: int) -> int | str | None:
        return self.dims[i] if i < len(self.dims) else None


def read_graph_io(path: Path, where: str = "", field: str = "onnx.file"
                  ) -> tuple[list[TensorInfo], list[TensorInfo]]:
    """(inputs, outputs) of an ONNX file; initializers listed as inputs are left out.

    Raises:
        ArtifactError: the file is not a readable ONNX model (naming ``field`` of ``where``).
    """
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises its own DecodeError types
        detail = str(exc).splitlines()[0] if str(exc) else "no detail"
        raise fail(where or str(path), field, "a readable ONNX model",
                   f"{path.name} that does not parse ({type(exc).__name__}: {detail})",
                   literal=True) from exc
    inits = {i.name for i in model.graph.initializer}
    ins = [_info(v) for v in model.graph.input if v.name not in inits]
    return ins, [_info(v) for v in model.graph.output]


def _info(value) -> TensorInfo:  # noqa: ANN001 - onnx.ValueInfoProto
    t = value.type.tensor_type
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                 for d in t.shape.dim)
    return TensorInfo(value.name, t.elem_type, dims)


def check_generator_graph(manifest: ModelManifest, path: Path, where: str) -> None:
    """model.onnx vs model.json: input/output names, float32 I/O, 3 image and output
    channels, style width == style_dim, aux width == the aux streams' channel count."""
    ins, outs = read_graph_io(path, where, "onnx.file")
    names = [i.name for i in ins]
    if names != manifest.graph_inputs:
        raise ArtifactError(f"{where}: inputs: expected {manifest.graph_inputs} (model.json), "
                            f"found {names} in {path.name}")
    if [o.name for o in outs] != [GRAPH_OUTPUT]:
        raise ArtifactError(f"{where}: outputs: expected [{GRAPH_OUTPUT!r}] (model.json), found "
                            f"{[o.name for o in outs]} in {path.name}")
    graph = {t.name: t for t in ins + outs}
    for t in graph.values():
        if t.elem_type != FLOAT:
            raise ArtifactError(f"{where}: {path.name} {t.name!r}: expected float32 "
                                f"(onnx type {FLOAT}), found onnx type {t.elem_type}")
    _expect_dim(graph["image"], 1, 3, "channels of input 'image'", where, path)
    _expect_dim(graph[GRAPH_OUTPUT], 1, 3, f"channels of output {GRAPH_OUTPUT!r}", where, path)
    style_w = graph["style"].dim(1)
    if isinstance(style_w, int) and style_w != manifest.style_dim:
        raise fail(where, "style_dim", f"{style_w} (width of input 'style' in {path.name})",
                   manifest.style_dim)
    if manifest.aux:
        aux_c = graph["aux"].dim(1)
        if isinstance(aux_c, int) and aux_c != manifest.aux_channels:
            streams = ", ".join(f"{a.name} {a.channels}" for a in manifest.aux)
            raise fail(where, "inputs.aux.channels", f"{aux_c} channels in all (input 'aux' "
                       f"of {path.name})", f"{manifest.aux_channels} ({streams})", literal=True)


def check_encoder_graph(manifest: ModelManifest, path: Path, where: str) -> None:
    """style_encoder.onnx: input ``image`` with 3 channels, output ``style`` of style_dim."""
    ins, outs = read_graph_io(path, where, "style_encoder")
    if [i.name for i in ins] != [ENCODER_INPUT] or [o.name for o in outs] != [ENCODER_OUTPUT]:
        raise ArtifactError(f"{where}: style_encoder: expected {path.name} with input "
                            f"[{ENCODER_INPUT!r}] and output [{ENCODER_OUTPUT!r}], found inputs "
                            f"{[i.name for i in ins]} and outputs {[o.name for o in outs]}")
    _expect_dim(ins[0], 1, 3, f"channels of {path.name} input 'image'", where, path)
    width = outs[0].dim(1)
    if isinstance(width, int) and width != manifest.style_dim:
        raise fail(where, "style_dim", f"{width} (width of output 'style' in {path.name})",
                   manifest.style_dim)


def _expect_dim(t: TensorInfo, axis: int, want: int, what: str, where: str, path: Path) -> None:
    got = t.dim(axis)
    if got != want:
        raise ArtifactError(f"{where}: {path.name}: {what}: expected {want}, found {got!r}")
