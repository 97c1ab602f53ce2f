"""Pieces the generator steps of several modes share: the style draw, colour moments,
capturing a layer's output, calling a discriminator frozen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from ..distributed import unwrap


def frozen(m: nn.Module | None) -> nn.Module | None:
    """The unwrapped module with gradients off (a discriminator during the G step)."""
    return None if m is None else unwrap(m).requires_grad_(False)


def draw_style(style_dim: int, b: int, gen: torch.Generator, device: torch.device,
               E: nn.Module | None = None, real: torch.Tensor | None = None,
               ref_prob: float = 0.0, ref_grad: bool = False
               ) -> tuple[torch.Tensor | None, bool]:
    """Style code for one step -> (s (B, style_dim) or None, drawn from a real reference?).

    With a style encoder ``E`` and real frames, a reference code E(real) is drawn with
    probability ``ref_prob`` (one draw from ``gen``); otherwise s ~ N(0, 1) from ``gen``.
    The reference code keeps its graph to E only with ``ref_grad``.
    """
    if not style_dim:
        return None, False
    if E is not None and real is not None and torch.rand((), generator=gen).item() < ref_prob:
        if ref_grad:
            return E(real), True
        with torch.no_grad():
            return unwrap(E)(real).detach(), True
    return torch.randn(b, style_dim, generator=gen).to(device), False


def colour_stats(img: torch.Tensor) -> torch.Tensor:
    """Per-channel mean and std at full and 1/4 resolution: (B,3,H,W) -> (B, 12)."""
    small = F.avg_pool2d(img, 4)
    return torch.cat([img.mean((2, 3)), img.std((2, 3)), small.mean((2, 3)),
                      small.std((2, 3))], 1)


@contextmanager
def capture_output(module: nn.Module | None) -> Iterator[list[torch.Tensor]]:
    """Record ``module``'s forward outputs in the yielded list (nothing when None)."""
    out: list[torch.Tensor] = []
    handle = None if module is None else module.register_forward_hook(
        lambda m, i, o: out.append(o))
    try:
        yield out
    finally:
        if handle is not None:
            handle.remove()
