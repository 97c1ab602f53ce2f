"""Parameter and multiply-accumulate counts (torch.utils.flop_counter, no extra dependency)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .config import GeneratorConfig


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def generator_inputs(cfg: GeneratorConfig, height: int, width: int, batch: int = 1
                     ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Example inputs (image, style, aux) for a generator with config ``cfg``."""
    image = torch.zeros(batch, 3, height, width)
    style = torch.zeros(batch, cfg.style_dim) if cfg.style_dim else None
    aux = None
    if cfg.aux_dim:
        aux = torch.rand(batch, cfg.aux_dim, height, width)
    return image, style, aux


@torch.no_grad()
def count_gmac(model: nn.Module, cfg: GeneratorConfig, height: int = 256,
               width: int = 256) -> float:
    """Giga multiply-accumulates of one (1,3,H,W) forward pass (conv/linear/matmul only)."""
    image, style, aux = generator_inputs(cfg, height, width)
    counter = FlopCounterMode(display=False)
    with counter:
        model.eval()(image, style, aux)
    return counter.get_total_flops() / 2 / 1e9
