"""Style code modules (MUNIT, Huang et al. 2018; Pfeiffer et al. 2019).

The style code ``s`` (B, style_dim) has an N(0,1) prior: a random appearance is
``torch.randn(B, style_dim)``. The :class:`MappingNetwork` (inside the generator) maps ``s``
to the AdaIN scale/shift parameters of every modulated layer; the :class:`StyleEncoder`
maps a real reference image to a code in the same space (trained with the style
reconstruction loss), so ``G(x, E(ref))`` copies the look of ``ref``.
"""

from __future__ import annotations

import torch
from torch import nn


class MappingNetwork(nn.Module):
    """MLP ``s`` (B, style_dim) -> AdaIN parameters (B, n_out).

    The last layer starts at zero, so an untrained generator ignores the style code.
    """

    def __init__(self, style_dim: int, hidden: int, n_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(style_dim, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, n_out))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.net(s)


class StyleEncoder(nn.Module):
    """Reference image (B,3,H,W) in [-1,1] -> style code (B, style_dim).

    Strided convs without normalisation (instance norm would erase the style), global
    average pooling, then a linear layer. Works at any H, W >= 2**n_down.
    """

    def __init__(self, style_dim: int, ngf: int = 16, n_down: int = 4) -> None:
        super().__init__()
        if style_dim < 1:
            raise ValueError(f"StyleEncoder: style_dim must be >= 1, got {style_dim}")
        layers: list[nn.Module] = [nn.Conv2d(3, ngf, 3, padding=1), nn.ReLU(inplace=True)]
        c = ngf
        for i in range(n_down):
            cout = ngf * 2 ** min(i + 1, 2)
            layers += [nn.Conv2d(c, cout, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
            c = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, style_dim)
        self.style_dim = style_dim

    def forward(self, ref: torch.Tensor) -> torch.Tensor:
        if ref.ndim != 4 or ref.shape[1] != 3:
            raise ValueError(f"StyleEncoder: expected (B,3,H,W), got {tuple(ref.shape)}")
        return self.head(self.features(ref).mean(dim=(2, 3)))
