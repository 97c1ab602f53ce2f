"""Neural texture (Thies et al. 2019; used for long-term consistency by Rivoir et al. 2021).

A learned feature atlas indexed by the simulator's surface UV coordinates: the same
surface point always reads the same features, so it is rendered the same whenever it
comes back into view. The atlas is a small pyramid (levels summed after sampling), which
lets coarse levels learn quickly while fine levels add detail.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NeuralTexture(nn.Module):
    """uv (B,2,H,W) in [0,1] (u -> x, v -> y) -> features (B,channels,H,W).

    Sampling is bilinear ``grid_sample`` with border padding (ONNX opset >= 16).
    """

    def __init__(self, channels: int, size: int = 256, levels: int = 3) -> None:
        super().__init__()
        if channels < 1 or size < 2 or levels < 1 or size // 2 ** (levels - 1) < 2:
            raise ValueError(f"NeuralTexture: need channels >= 1, size >= 2, levels >= 1 with "
                             f"size/2**(levels-1) >= 2; got {channels}, {size}, {levels}")
        self.channels = channels
        self.atlases = nn.ParameterList(
            nn.Parameter(0.01 * torch.randn(1, channels, size // 2 ** i, size // 2 ** i))
            for i in range(levels))

    def forward(self, uv: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_tracing() and (uv.ndim != 4 or uv.shape[1] != 2):
            raise ValueError(f"NeuralTexture: expected uv (B,2,H,W), got {tuple(uv.shape)}")
        grid = (uv.permute(0, 2, 3, 1) * 2 - 1).to(self.atlases[0].dtype)
        b = uv.shape[0]
        out = None
        for atlas in self.atlases:
            s = F.grid_sample(atlas.expand(b, -1, -1, -1), grid, mode="bilinear",
                              padding_mode="border", align_corners=False)
            out = s if out is None else out + s
        return out
