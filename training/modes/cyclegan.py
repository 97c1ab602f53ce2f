"""``cyclegan`` baseline (Zhu et al. 2017): per frame, no style, no temporal losses.

Networks: G (sim->real), F (real->sim), D_real, D_sim. Losses: ``adv`` and ``adv_sim``
(weight ``adv``), ``cycle`` and ``cycle_real`` both ways (weight ``cycle``), ``identity``
|y - G(y)| + |x - F(x)| when ``identity > 0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from sim2real_gan.models import GeneratorConfig, build_discriminator, build_generator

from .. import losses as L
from ..nets import Nets
from .base import Batch, Mode, Terms
from .common import frozen

if TYPE_CHECKING:
    from ..config import LossConfig, TrainConfig


@dataclass(frozen=True)
class CycleGANLosses:
    """The loss.* settings cyclegan reads (meanings: training/config.py LossConfig)."""

    adversarial: str
    adv: float
    cycle: float
    identity: float

    @classmethod
    def of(cls, c: LossConfig) -> CycleGANLosses:
        return cls(adversarial=c.adversarial, adv=c.adv, cycle=c.cycle, identity=c.identity)


class CycleGANMode(Mode):
    name = "cyclegan"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.losses = CycleGANLosses.of(cfg.loss)

    @property
    def needs_real(self) -> bool:
        return True

    def loss_keys(self) -> frozenset[str]:
        return frozenset(CycleGANLosses.__dataclass_fields__)

    def _inverse_cfg(self) -> GeneratorConfig:
        return self.cfg.inverse.build_config()

    def check(self) -> None:
        for role, g in (("generator", self.g_cfg), ("inverse", self._inverse_cfg())):
            if g.style_dim or g.aux_channels:
                raise ValueError(f"mode cyclegan: {role} must take no style and no aux (set "
                                 f"{role}.overrides: {{style_dim: 0}}); got style_dim="
                                 f"{g.style_dim}, aux={list(g.aux_channels)}")

    def size_multiples(self) -> list[int]:
        return [self.g_cfg.size_multiple, self._inverse_cfg().size_multiple]

    def build_nets(self, device: torch.device) -> Nets:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        nets = Nets(g_cfg=self.g_cfg, G=build_generator(self.g_cfg))
        nets.F = build_generator(self._inverse_cfg())
        nets.D_sim = build_discriminator(cfg.discriminator)
        nets.D_real = build_discriminator(cfg.discriminator)
        return nets.place(device, cfg.channels_last)

    def g_step(self, w: Nets, batch: Batch, gen: torch.Generator,
               segmenter: torch.nn.Module | None) -> tuple[Terms, dict[str, torch.Tensor]]:
        lw = self.losses
        x, y = batch["sim_t"], batch["real"]
        fake, fake_sim = w.G(x), w.F(y)
        terms = Terms()
        terms.add("adv", lw.adv, L.g_adv_loss(frozen(w.D_real)(fake), lw.adversarial))
        terms.add("adv_sim", lw.adv, L.g_adv_loss(frozen(w.D_sim)(fake_sim), lw.adversarial))
        terms.add("cycle", lw.cycle, L.cycle_loss(x, w.F(fake)))
        terms.add("cycle_real", lw.cycle, L.cycle_loss(y, w.G(fake_sim)))
        if lw.identity > 0:
            terms.add("identity", lw.identity,
                      L.identity_loss(y, w.G(y)) + L.identity_loss(x, w.F(x)))
        return terms, {"fake": fake, "fake_sim": fake_sim}

    def d_step(self, w: Nets, batch: Batch, fakes: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
        kind = self.losses.adversarial
        return {"d_real": L.d_loss(w.D_real(batch["real"]), w.D_real(fakes["fake"].detach()),
                                   kind),
                "d_sim": L.d_loss(w.D_sim(batch["sim_t"]), w.D_sim(fakes["fake_sim"].detach()),
                                  kind)}
