"""PyTorch generator -> ONNX graph with dynamic batch, height and width.

Uses the TorchScript-based exporter (``dynamo=False``): it handles the conv / instance-norm /
AdaIN / grid-sample generators here without the ``onnxscript`` dependency.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import onnx
import torch
from torch import nn

from sim2real_gan.artifact import NET_RANGE

log = logging.getLogger(__name__)

MIN_OPSET = 17


class GeneratorGraph(nn.Module):
    """Adapter giving the exported graph fixed, named positional inputs.

    Wraps ``generator(image, style, aux=None)``. The graph takes ``image``, then ``style``
    when ``style_dim`` > 0 (the CycleGAN baseline has none), then ``aux`` when
    ``aux_channels`` > 0.
    """

    def __init__(self, generator: nn.Module, style_dim: int, aux_channels: int) -> None:
        super().__init__()
        self.generator = generator
        self.style_dim = style_dim
        self.aux_channels = aux_channels

    def forward(self, image: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        style = rest[0] if self.style_dim else None
        aux = rest[-1] if self.aux_channels else None
        return self.generator(image, style, aux)


@contextmanager
def quiet_export() -> Iterator[None]:
    """Silence the TorchScript exporter's expected warnings (and only inside the export).

    * "instance_norm ... training mode": InstanceNorm without running stats always uses the
      input's statistics, so eval and the graph agree (the parity check proves it).
    * TracerWarning: Python-side shape checks (channel counts) are constant for a network;
      parity runs two other sizes to prove nothing else was baked in.
    * DeprecationWarning: the legacy-exporter notice (dynamo=False is deliberate: it needs no
      onnxscript and handles these generators).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*instance_norm.*")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        yield


def input_names(style_dim: int, aux_channels: int) -> list[str]:
    """Graph input names in order: ``image``[, ``style``][, ``aux``]."""
    return ["image"] + (["style"] if style_dim else []) + (["aux"] if aux_channels else [])


def example_inputs(style_dim: int, aux_channels: int, hw: tuple[int, int],
                   batch: int = 1, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random graph inputs by name: image (B,3,H,W) uniform over the network range
    (NET_RANGE, [-1,1]), style (B,S) ~ N(0,1), aux (B,A,H,W) in [0,1] (only the inputs the
    graph has)."""
    g = torch.Generator().manual_seed(seed)
    h, w = hw
    out = {"image": NET_RANGE.apply(torch.rand(batch, 3, h, w, generator=g) * 255.0)}
    if style_dim:
        out["style"] = torch.randn(batch, style_dim, generator=g)
    if aux_channels:
        out["aux"] = torch.rand(batch, aux_channels, h, w, generator=g)
    return out


def export_onnx(generator: nn.Module, path: str | Path, *, style_dim: int, aux_channels: int,
                sample_hw: tuple[int, int] = (64, 64), opset: int = MIN_OPSET) -> Path:
    """Export ``generator`` (in eval mode, FP32) to ``path`` and check the graph.

    Inputs ``image`` (B,3,H,W), ``style`` (B,style_dim) when style_dim > 0 and ``aux``
    (B,aux_channels,H,W) when aux_channels > 0; output ``output`` (B,3,H,W). B, H and W
    are dynamic axes.
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset must be >= {MIN_OPSET}, got {opset}")
    path = Path(path)
    graph = GeneratorGraph(generator, style_dim, aux_channels).eval()
    inputs = example_inputs(style_dim, aux_channels, sample_hw)
    spatial = {0: "batch", 2: "height", 3: "width"}
    dynamic = {"image": spatial, "style": {0: "batch"}, "aux": spatial, "output": spatial}
    dynamic = {k: v for k, v in dynamic.items() if k in inputs or k == "output"}
    buf = io.BytesIO()
    with torch.no_grad(), quiet_export():
        torch.onnx.export(graph, tuple(inputs.values()), buf, input_names=list(inputs),
                          output_names=["output"], dynamic_axes=dynamic, opset_version=opset,
                          dynamo=False, do_constant_folding=True)
    model = onnx.load_from_string(buf.getvalue())
    _declare_output(model.graph.output[0])
    onnx.checker.check_model(model)
    model.producer_name = "sim2real_gan"
    onnx.save(model, str(path))
    return path


def _declare_output(output: onnx.ValueInfoProto) -> None:
    """Declare ``output`` as (batch, 3, height, width): the tracer leaves the channel count
    symbolic after some ops (e.g. the style statistics stage's matrix product), and the
    artifact's graph check wants it stated. The parity run checks the real shape."""
    dims = output.type.tensor_type.shape.dim
    for d, name in zip(dims, ("batch", None, "height", "width"), strict=True):
        if name is None:
            d.dim_value = 3
        else:
            d.dim_param = name


def convert_fp16(src: str | Path, dst: str | Path) -> Path:
    """Rewrite an FP32 graph so weights and activations are FP16 inside, keeping FP32 I/O.

    Uses ONNX Runtime's bundled converter (``onnxruntime.transformers.float16``), so no new
    dependency. Normalisation statistics stay FP32 where the converter's default block list
    says so; Cast nodes are inserted at the boundary.
    """
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    converted = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=False)
    _toposort(converted.graph)
    onnx.checker.check_model(converted)
    onnx.save(converted, str(dst))
    return Path(dst)


def _toposort(graph: onnx.GraphProto) -> None:
    """Reorder ``graph.node`` in place so every node follows the producers of its inputs.

    The FP16 converter appends its boundary Cast nodes at the end, which the checker rejects.
    """
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending = list(graph.node)
    ordered: list[onnx.NodeProto] = []
    while pending:
        rest = [n for n in pending if not all(i in ready for i in n.input)]
        done = [n for n in pending if all(i in ready for i in n.input)]
        if not done:
            raise ValueError(f"ONNX graph has a cycle or a dangling input at {rest[0].name!r}")
        for n in done:
            ordered.append(n)
            ready.update(n.output)
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)


def graph_input_names(path: str | Path) -> list[str]:
    """Names of an ONNX graph's inputs (initializers excluded)."""
    model = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]
