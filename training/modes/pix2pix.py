"""``pix2pix`` baseline (Isola et al. 2017): paired translation, each sim frame has its
real-style target (``target`` field: the simulator's paired rendering, a bag's target
topic or a folder's target/ subfolder).

Networks: G, a conditional D_real on (input, output) (6 input channels). Losses: ``adv``
(cGAN), ``l1`` |G(x) - target|, ``structure`` when > 0. No real stream.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch
from sim2real_gan.models import build_discriminator, build_generator

from .. import losses as L
from ..nets import Nets
from ..structure import structure_loss
from .base import Batch, Mode, Terms
from .common import draw_style, frozen

if TYPE_CHECKING:
    from ..config import LossConfig, TrainConfig


@dataclass(frozen=True)
class Pix2PixLosses:
    """The loss.* settings pix2pix reads (meanings: training/config.py LossConfig)."""

    adversarial: str
    adv: float
    l1: float
    structure: float

    @classmethod
    def of(cls, c: LossConfig) -> Pix2PixLosses:
        return cls(adversarial=c.adversarial, adv=c.adv, l1=c.l1, structure=c.structure)


class Pix2PixMode(Mode):
    name = "pix2pix"
    required_sim = ("image", "target")

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.losses = Pix2PixLosses.of(cfg.loss)

    @property
    def needs_real(self) -> bool:
        return False

    def loss_keys(self) -> frozenset[str]:
        return frozenset(Pix2PixLosses.__dataclass_fields__)

    def build_nets(self, device: torch.device) -> Nets:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        nets = Nets(g_cfg=self.g_cfg, G=build_generator(self.g_cfg))
        nets.D_real = build_discriminator(replace(cfg.discriminator, in_channels=6))
        return nets.place(device, cfg.channels_last)

    def g_step(self, w: Nets, batch: Batch, gen: torch.Generator,
               segmenter: torch.nn.Module | None) -> tuple[Terms, dict[str, torch.Tensor]]:
        lw = self.losses
        x = batch["sim_t"]
        s, _ = draw_style(self.g_cfg.style_dim, x.shape[0], gen, x.device)
        fake = w.G(x, s, batch["aux_t"] if self.g_cfg.aux_channels else None)
        terms = Terms()
        terms.add("adv", lw.adv, L.g_adv_loss(frozen(w.D_real)(torch.cat([x, fake], 1)),
                                              lw.adversarial))
        terms.add("l1", lw.l1, L.l1(fake, batch["target_t"]))
        if lw.structure > 0:
            terms.add("structure", lw.structure, structure_loss(x, fake))
        return terms, {"fake": fake}

    def d_step(self, w: Nets, batch: Batch, fakes: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
        x, d = batch["sim_t"], w.D_real
        real = d(torch.cat([x, batch["target_t"]], 1))
        fake = d(torch.cat([x, fakes["fake"].detach()], 1))
        return {"d_real": L.d_loss(real, fake, self.losses.adversarial)}
