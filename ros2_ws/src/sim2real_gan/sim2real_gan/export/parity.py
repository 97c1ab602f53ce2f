"""Parity check: the exported ONNX graph through ONNX Runtime vs the PyTorch generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .onnx_export import example_inputs

FP32_TOLERANCE = 1e-3
FP16_TOLERANCE = 3e-2


@dataclass
class ParityReport:
    """Max absolute output difference per tested input shape, and overall."""

    tolerance: float
    cases: list[dict] = field(default_factory=list)

    @property
    def max_abs_diff(self) -> float:
        return max((c["max_abs_diff"] for c in self.cases), default=float("nan"))

    @property
    def ok(self) -> bool:
        return bool(self.cases) and self.max_abs_diff <= self.tolerance

    def to_json(self) -> dict:
        return {"max_abs_diff": self.max_abs_diff, "tolerance": self.tolerance,
                "ok": self.ok, "cases": self.cases}


def check_parity(generator: nn.Module, onnx_path: str | Path, *, style_dim: int,
                 aux_channels: int, shapes: list[tuple[int, int, int]],
                 tolerance: float = FP32_TOLERANCE) -> ParityReport:
    """Run ``generator`` and ``onnx_path`` (ONNX Runtime, CPU) on identical random inputs.

    Args:
        shapes: ``(B, H, W)`` triples; use more than one H/W (and a B > 1) to prove the
            graph's dynamic axes really are dynamic.
    Returns:
        A :class:`ParityReport`; the caller decides what to do when ``ok`` is False.
    """
    from sim2real_gan.runtime.backends.onnxruntime_backend import make_session

    session = make_session(onnx_path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    report = ParityReport(tolerance=tolerance)
    generator = generator.eval()
    for i, (b, h, w) in enumerate(shapes):
        feeds = example_inputs(style_dim, aux_channels, (h, w), batch=b, seed=i)
        if sorted(feeds) != sorted(names):
            raise ValueError(f"{onnx_path}: graph inputs {names} differ from the generator's "
                             f"{list(feeds)}")
        with torch.no_grad():
            ref = generator(feeds["image"], feeds.get("style"), feeds.get("aux")).numpy()
        out = session.run(["output"], {k: v.numpy() for k, v in feeds.items()})[0]
        if out.shape != ref.shape:
            raise ValueError(f"ONNX output shape {out.shape} differs from PyTorch {ref.shape} "
                             f"for input (B,H,W)=({b},{h},{w})")
        diff = float(np.max(np.abs(out.astype(np.float64) - ref)))
        report.cases.append({"shape": [b, 3, h, w], "max_abs_diff": diff})
    return report
