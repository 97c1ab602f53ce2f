"""Losses under mixed precision (the `base` recipes train with ``amp: bf16`` on CUDA).

Autocast on the CPU runs convolutions in bf16 like CUDA autocast does, so the numerical
behaviour of a loss under AMP is checked here without a GPU.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from training.losses import temporal_loss
from training.structure import structure_loss
from training.warp import warp


def _pair(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth image batch and a recoloured, noisy version of it, (4,3,96,96) in [-1,1]."""
    g = torch.Generator().manual_seed(seed)
    x = F.avg_pool2d(torch.rand(4, 3, 96, 96, generator=g) * 2 - 1, 9, 1, 4)
    noise = 0.05 * torch.randn(x.shape, generator=g)
    return x, (0.8 * x + 0.1 + noise).clamp(-1, 1)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_structure_loss_is_float32_under_autocast(dtype: torch.dtype) -> None:
    x, y = _pair(0)
    ref_y = y.double().requires_grad_(True)
    ref = structure_loss(x.double(), ref_y)
    ref.backward()
    y = y.clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=dtype):
        loss = structure_loss(x, y)
    loss.backward()
    assert loss.dtype == torch.float32
    assert abs(loss.item() - ref.item()) < 1e-4 * max(1.0, abs(ref.item())) + 1e-6
    rel = (y.grad.double() - ref_y.grad).norm() / ref_y.grad.norm()
    assert rel < 1e-3, f"gradient relative error {rel:.2e} under {dtype} autocast"


def test_structure_loss_keeps_float64() -> None:
    x, y = _pair(1)
    assert structure_loss(x.double(), y.double()).dtype == torch.float64


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_warp_of_low_precision_image_keeps_pixels_in_place(dtype: torch.dtype) -> None:
    """A generator output under AMP is bf16/fp16: zero flow must return it unchanged, and a
    sub-pixel flow must sample where float32 samples (the grid stays float32)."""
    g = torch.Generator().manual_seed(2)
    img = (torch.rand(2, 3, 64, 96, generator=g) * 2 - 1).to(dtype)
    zero = torch.zeros(2, 2, 64, 96)
    out, inside = warp(img, zero)
    assert out.dtype == torch.float32 and bool(inside.all())
    assert (out - img.float()).abs().max() < 1e-5
    flow = torch.full((2, 2, 64, 96), 0.3)
    ref, _ = warp(img.double(), flow.double())
    assert (warp(img, flow)[0].double() - ref).abs().max() < 1e-5


def test_temporal_loss_of_identical_bf16_outputs_is_zero() -> None:
    g = torch.Generator().manual_seed(3)
    out = (torch.rand(2, 3, 64, 64, generator=g) * 2 - 1).bfloat16()
    valid = torch.ones(2, 1, 64, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = temporal_loss(out, out.clone(), torch.zeros(2, 2, 64, 64), valid)
    assert loss.item() < 1e-6
