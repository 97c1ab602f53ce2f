"""Image grids for TensorBoard and before/after strips (no torchvision)."""

from __future__ import annotations

import numpy as np
import torch
from sim2real_gan.artifact.pixels import from_net


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(3,H,W) in [-1,1] -> uint8 (H,W,3)."""
    return from_net(img.detach().float().cpu().numpy())


def image_grid(rows: list[torch.Tensor], pad: int = 2) -> torch.Tensor:
    """Rows of (N,3,H,W) images in [-1,1] (same H, W) -> (3, H', W') in [0,1], one row each."""
    n = max(r.shape[0] for r in rows)
    _, _, h, w = rows[0].shape
    grid = torch.ones(3, len(rows) * (h + pad) + pad, n * (w + pad) + pad)
    for i, r in enumerate(rows):
        for j in range(r.shape[0]):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            grid[:, y:y + h, x:x + w] = (r[j].float().clamp(-1, 1) + 1) / 2
    return grid
