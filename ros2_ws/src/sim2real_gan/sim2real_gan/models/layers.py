"""Building blocks shared by the generators: conv-norm-act, AdaIN residual blocks."""

from __future__ import annotations

import torch
from torch import nn


def conv(cin: int, cout: int, k: int = 3, stride: int = 1, padding_mode: str = "zeros") -> nn.Conv2d:
    """k x k convolution with 'same' padding (for stride 1)."""
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, padding_mode=padding_mode)


class ConvNormAct(nn.Sequential):
    """Conv -> InstanceNorm (affine) -> ReLU. (B,cin,H,W) -> (B,cout,H/stride,W/stride)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__(conv(cin, cout, k, stride, padding_mode),
                         nn.InstanceNorm2d(cout, affine=True), nn.ReLU(inplace=True))


class AdaIN(nn.Module):
    """Adaptive instance norm: ``IN(x) * (1 + gamma) + beta``, gamma/beta (B,C) per sample.

    With gamma = beta = 0 it is a plain (non-affine) instance norm.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.norm = nn.InstanceNorm2d(channels, affine=False)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]


class AdaResBlock(nn.Module):
    """Residual block ``x + conv(relu(adain(conv(relu(adain(x))))))``-style, two AdaINs.

    ``n_params`` = 4 * C style parameters per block (two (gamma, beta) pairs).
    """

    def __init__(self, channels: int, padding_mode: str = "zeros") -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = conv(channels, channels, 3, 1, padding_mode)
        self.conv2 = conv(channels, channels, 3, 1, padding_mode)
        self.norm1 = AdaIN(channels)
        self.norm2 = AdaIN(channels)
        self.act = nn.ReLU()

    @property
    def n_params(self) -> int:
        return 4 * self.channels

    def forward(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """x (B,C,H,W), p (B, 4C) style parameters -> (B,C,H,W)."""
        g1, b1, g2, b2 = torch.split(p, self.channels, dim=1)
        h = self.act(self.norm1(self.conv1(x), g1, b1))
        h = self.norm2(self.conv2(h), g2, b2)
        return x + h


class ResBlock(nn.Module):
    """Plain CycleGAN residual block (IN, no style)."""

    def __init__(self, channels: int, padding_mode: str = "reflect") -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv(channels, channels, 3, 1, padding_mode), nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            conv(channels, channels, 3, 1, padding_mode), nn.InstanceNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)
