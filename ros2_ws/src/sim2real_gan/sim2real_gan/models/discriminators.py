"""Multi-scale PatchGAN discriminators (Isola et al. 2017; Wang et al. 2018 pix2pixHD)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DiscriminatorConfig:
    """``n_scales`` PatchGANs, each on the input average-pooled by 2**k.

    ``in_channels`` is 3 for unpaired modes and 6 for pix2pix (input and output stacked).
    """

    in_channels: int = 3
    ndf: int = 64
    n_layers: int = 3             # stride-2 layers per PatchGAN (3 = the 70x70 PatchGAN)
    n_scales: int = 2
    max_channels: int = 512
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        for name in ("in_channels", "ndf", "n_layers", "n_scales", "max_channels"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DiscriminatorConfig.{name}: expected >= 1, "
                                 f"got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class PatchDiscriminator(nn.Module):
    """(B,C,H,W) -> patch logits (B,1,H',W'); conv4x4 s2 stacks with IN + LeakyReLU."""

    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm if cfg.spectral_norm else (lambda m: m)
        layers: list[nn.Module] = [sn(nn.Conv2d(cfg.in_channels, cfg.ndf, 4, 2, 1)),
                                   nn.LeakyReLU(0.2, inplace=True)]
        c = cfg.ndf
        for i in range(1, cfg.n_layers + 1):
            cout = min(cfg.ndf * 2 ** i, cfg.max_channels)
            stride = 2 if i < cfg.n_layers else 1
            layers += [sn(nn.Conv2d(c, cout, 4, stride, 1)), nn.InstanceNorm2d(cout, affine=True),
                       nn.LeakyReLU(0.2, inplace=True)]
            c = cout
        layers.append(sn(nn.Conv2d(c, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiScaleDiscriminator(nn.Module):
    """List of PatchGAN logits, one per scale: [(B,1,h0,w0), (B,1,h1,w1), ...]."""

    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = cfg
        self.scales = nn.ModuleList(PatchDiscriminator(cfg) for _ in range(cfg.n_scales))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(f"discriminator: expected (B,{self.config.in_channels},H,W), "
                             f"got {tuple(x.shape)}")
        out = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out.append(d(x))
        return out


def build_discriminator(cfg: DiscriminatorConfig) -> MultiScaleDiscriminator:
    return MultiScaleDiscriminator(cfg)
