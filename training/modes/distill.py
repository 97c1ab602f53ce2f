"""``distill``: a student G learns a frozen teacher T's translation (``teacher``: a
generator checkpoint or run directory) on the same sim pairs and style codes.

Networks: G (student), T (frozen), D_real when ``loss.adv > 0``. Losses: the pair losses
(training/modes/pair.py) plus ``l1`` |G(x, s) - T(x, s)|. Teacher and student take the same
style_dim and aux inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from sim2real_gan.models import build_discriminator, build_generator, load_generator
from sim2real_gan.models.checkpoint import read_config

from .. import losses as L
from ..nets import Nets, resolve_generator_dir
from .base import Batch, Feature, Terms
from .common import d_view
from .pair import PairLosses, PairMode

if TYPE_CHECKING:
    from ..config import LossConfig, TrainConfig


@dataclass(frozen=True)
class DistillLosses(PairLosses):
    """The loss.* settings distill reads (meanings: training/config.py LossConfig)."""

    l1: float

    @classmethod
    def of(cls, c: LossConfig) -> DistillLosses:
        return cls(adversarial=c.adversarial, adv=c.adv, structure=c.structure,
                   temporal=c.temporal, temporal_feat=c.temporal_feat, semantic=c.semantic,
                   segmenter=c.segmenter, segmenter_steps=c.segmenter_steps,
                   segmenter_crop=c.segmenter_crop,
                   segmenter_jitter=c.segmenter_jitter, d_blur=c.d_blur,
                   l1=c.l1)


class DistillMode(PairMode):
    name = "distill"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.losses = self.pair = DistillLosses.of(cfg.loss)

    @property
    def needs_real(self) -> bool:
        return self.losses.adv > 0  # real frames only feed the optional discriminator

    def loss_keys(self) -> frozenset[str]:
        return frozenset(DistillLosses.__dataclass_fields__)

    def features(self) -> list[Feature]:
        return [*super().features(), *self.pair_features()]

    def check(self) -> None:
        """The teacher exists and takes what the student takes (reads config.json only)."""
        super().check()
        t_cfg, _ = read_config(resolve_generator_dir(self.cfg.teacher))
        g_cfg = self.g_cfg
        if (t_cfg.style_dim, t_cfg.aux_channels) != (g_cfg.style_dim, g_cfg.aux_channels):
            raise ValueError(f"distill: teacher takes style_dim={t_cfg.style_dim}, "
                             f"aux={list(t_cfg.aux_channels)}; student takes "
                             f"style_dim={g_cfg.style_dim}, aux={list(g_cfg.aux_channels)} "
                             "(with this data)")

    def build_nets(self, device: torch.device) -> Nets:
        cfg, g_cfg = self.cfg, self.g_cfg
        torch.manual_seed(cfg.seed)
        nets = Nets(g_cfg=g_cfg, G=build_generator(g_cfg))
        if self.losses.adv > 0:
            nets.D_real = build_discriminator(cfg.discriminator)
        teacher, _ = load_generator(resolve_generator_dir(cfg.teacher), device)
        nets.T = teacher.requires_grad_(False)
        return nets.place(device, cfg.channels_last)

    def g_step(self, w: Nets, batch: Batch, gen: torch.Generator,
               segmenter: torch.nn.Module | None) -> tuple[Terms, dict[str, torch.Tensor]]:
        terms, o = self.pair_step(w, batch, gen, segmenter)
        b = batch["sim_t"].shape[0]
        with torch.no_grad():
            target = w.T(o.x, o.s2, o.aux, o.rim)
        terms.add("l1", self.losses.l1, L.l1(o.fake, target))
        return terms, {"fake": o.fake_t, "fake_pair": o.fake, "teacher": target[:b]}

    def d_step(self, w: Nets, batch: Batch, fakes: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
        if w.D_real is None:
            return {}
        m, blur = batch.get("real_mask"), self.losses.d_blur
        return {"d_real": L.d_loss(w.D_real(d_view(batch["real"], m, blur)),
                                   w.D_real(d_view(fakes["fake_pair"].detach(), m, blur)),
                                   self.losses.adversarial)}
