"""``sim2real`` (ours): unpaired, styled, temporally consistent translation.

Networks: G, E (when G takes a style code), D_real, and F + D_sim when ``loss.cycle > 0``.
Losses: the pair losses (training/modes/pair.py) plus ``style`` |s - E(G(x, s))| (MUNIT),
``ref_stats`` (reference-styled fakes match the reference's look: CIELAB moments at two
scales and the share of highlights, the reference's measured in its content area), ``content``
|enc(x) - enc(G(x, s))|, ``cycle`` |x - F(G(x))| (+ |y - G(F(y), E(y))| when G takes no
aux), ``adv_sim`` (D_sim on F(y)), ``identity`` |y - G(y, E(y))| (G without aux only),
``stereo`` (a stereo sim source: the right eye translated with the pair's style code,
warped into the left view with the disparity and compared like the temporal loss).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from sim2real_gan.models import (
    GeneratorConfig,
    StyleEncoder,
    build_discriminator,
    build_generator,
    build_style_encoder,
)
from sim2real_gan.models.colour import lab_moments, rgb_to_lab
from sim2real_gan.models.generators import StyleUNetGenerator

from .. import losses as L
from ..distributed import unwrap
from ..nets import Nets
from .base import Batch, Feature, Terms
from .common import d_view, frozen, look_stats, real_weight
from .pair import PairLosses, PairMode

if TYPE_CHECKING:
    from ..config import LossConfig, TrainConfig
    from ..data import TranslationDataset

CONTENT, STEREO = "content", "stereo"
CALIBRATION_SAMPLES = 256
log = logging.getLogger("sim2real_gan.train")


@dataclass(frozen=True)
class Sim2RealLosses(PairLosses):
    """The loss.* settings sim2real reads (meanings: training/config.py LossConfig)."""

    cycle: float
    identity: float
    style: float
    content: float
    ref_style_prob: float
    ref_stats: float
    stereo: float

    @classmethod
    def of(cls, c: LossConfig) -> Sim2RealLosses:
        return cls(adversarial=c.adversarial, adv=c.adv, structure=c.structure,
                   temporal=c.temporal, temporal_feat=c.temporal_feat, semantic=c.semantic,
                   segmenter=c.segmenter, segmenter_steps=c.segmenter_steps,
                   segmenter_crop=c.segmenter_crop,
                   segmenter_jitter=c.segmenter_jitter, d_blur=c.d_blur, cycle=c.cycle,
                   identity=c.identity, style=c.style, content=c.content,
                   ref_style_prob=c.ref_style_prob, ref_stats=c.ref_stats, stereo=c.stereo)


class Sim2RealMode(PairMode):
    name = "sim2real"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        self.losses = self.pair = Sim2RealLosses.of(cfg.loss)

    @property
    def needs_real(self) -> bool:
        return True

    def loss_keys(self) -> frozenset[str]:
        return frozenset(Sim2RealLosses.__dataclass_fields__)

    def features(self) -> list[Feature]:
        lw, arch = self.losses, self.g_cfg.arch
        return [*super().features(), *self.pair_features(),
                Feature(CONTENT, "content loss", keys=("loss.content",),
                        wanted=lw.content > 0,
                        blocked="" if arch == "style_unet" else
                        f"the {arch} generator has no content encoder"),
                Feature(STEREO, "stereo loss", sim_fields=(
                    "right", "disparity", "disparity_valid",
                    *(f"right_{a}" for a in self.g_cfg.aux_channels)),
                    keys=("loss.stereo",), wanted=lw.stereo > 0)]

    def configure(self, enabled: frozenset[str]) -> None:
        super().configure(enabled)
        # G(y) needs the sim aux channels a real frame lacks: identity (like the backward
        # cycle) runs only for a generator without aux inputs.
        self.identity_on = self.losses.identity > 0 and not self.g_cfg.aux_channels
        if self.losses.identity > 0 and not self.identity_on:
            log.info("G reads aux inputs %s that a real frame does not have: identity loss "
                     "off", list(self.g_cfg.aux_channels))

    def _inverse_cfg(self) -> GeneratorConfig:
        f_cfg = self.cfg.inverse.build_config()
        if f_cfg.style_dim or f_cfg.aux_channels:
            raise ValueError("inverse (real->sim) generator must have style_dim 0 and no aux; "
                             f"got style_dim={f_cfg.style_dim}, aux={f_cfg.aux_channels}")
        return f_cfg

    def check(self) -> None:
        super().check()
        if self.losses.cycle > 0:
            self._inverse_cfg()

    def size_multiples(self) -> list[int]:
        extra = [self._inverse_cfg().size_multiple] if self.losses.cycle > 0 else []
        return [*super().size_multiples(), *extra]

    def build_nets(self, device: torch.device) -> Nets:
        cfg, g_cfg = self.cfg, self.g_cfg
        torch.manual_seed(cfg.seed)
        nets = Nets(g_cfg=g_cfg, G=build_generator(g_cfg))
        if g_cfg.style_dim:
            nets.E = build_style_encoder(g_cfg)
        if self.losses.cycle > 0:
            nets.F = build_generator(self._inverse_cfg())
            nets.D_sim = build_discriminator(cfg.discriminator)
        nets.D_real = build_discriminator(cfg.discriminator)
        return nets.place(device, cfg.channels_last)

    def prepare(self, nets: Nets, data: TranslationDataset) -> None:
        """Statistics-conditioned G (``style_stats``): the style code's colour part is
        normalised by the CIELAB moments of real training crops as the footage shows them
        (no appearance jitter: a random code asks for a look of the footage, with its
        spread and correlations; the jitter only teaches E and G to follow other looks)."""
        g = unwrap(nets.G)
        if not isinstance(g, StyleUNetGenerator) or g.stats is None:
            return
        n = min(CALIBRATION_SAMPLES, 4 * len(data.real.frames)) if data.real else 0
        if n < 2:
            return
        jitter, data.jitter = data.jitter, 0.0
        try:
            with torch.no_grad():
                rows = []
                for k in range(n):
                    b = data[k]
                    w = b["real_mask"][None] if "real_mask" in b else None
                    rows.append(lab_moments(rgb_to_lab((b["real"][None] + 1) * 0.5), w))
        finally:
            data.jitter = jitter
        moments = torch.cat(rows).to(g.stats.loc.device)
        g.stats.calibrate(moments)
        e = unwrap(nets.E) if nets.E is not None else None
        if isinstance(e, StyleEncoder) and e.stats is not None:
            e.stats.calibrate(moments)
        log.info("style statistics from %d real crops: CIELAB moments %s +- %s", n,
                 [round(float(v), 1) for v in g.stats.loc],
                 [round(float(v), 1) for v in g.stats.scale])

    def g_step(self, w: Nets, batch: Batch, gen: torch.Generator,
               segmenter: torch.nn.Module | None) -> tuple[Terms, dict[str, torch.Tensor]]:
        lw = self.losses
        terms, o = self.pair_step(w, batch, gen, segmenter, lw.ref_style_prob,
                                  ref_grad=lw.ref_stats > 0)
        x_t, y, fake_t = batch["sim_t"], batch["real"], o.fake_t
        fakes = {"fake": fake_t, "fake_pair": o.fake}
        if w.E is not None and lw.style > 0:
            terms.add("style", lw.style, L.style_recon_loss(o.s.detach(), w.E(fake_t)))
        if o.is_ref and lw.ref_stats > 0:  # the reference's look must come through the code
            b = fake_t.shape[0]
            rims = (o.rim[:b], batch["real_rim"]) if o.rim is not None else (None, None)
            terms.add("ref_stats", lw.ref_stats, L.l1(
                look_stats(fake_t, None, rims[0]), look_stats(y, real_weight(batch), rims[1]),
                "ref_stats"))
        if STEREO in self.on:  # the right eye with the pair's style code s (one per pair)
            x_r = batch["right_t"]
            aux_r = batch["aux_right"] if o.aux is not None else None
            fake_r = w.G(x_r, o.s, aux_r, o.rim[:x_r.shape[0]] if o.rim is not None else None)
            fakes["fake_right"] = fake_r
            terms.add("stereo", lw.stereo, L.stereo_loss(
                fake_t, fake_r, batch["disparity"], batch["disparity_valid"], x_t, x_r))
        if CONTENT in self.on:
            g = unwrap(w.G)
            assert isinstance(g, StyleUNetGenerator)  # guaranteed by the feature's check
            terms.add("content", lw.content, L.content_recon_loss(
                g.encode(o.x, o.aux).detach(), g.encode(o.fake, o.aux)))
        if w.F is not None:
            fake_sim = w.F(y)
            fakes["fake_sim"] = fake_sim
            terms.add("cycle", lw.cycle, L.cycle_loss(x_t, w.F(fake_t)))
            terms.add("adv_sim", lw.adv, L.g_adv_loss(frozen(w.D_sim)(fake_sim),
                                                      lw.adversarial))
            if o.aux is None:  # the backward cycle needs sim aux channels a real frame lacks
                s_y = w.E(y) if w.E is not None else None
                terms.add("cycle_real", lw.cycle, L.cycle_loss(y, w.G(fake_sim, s_y)))
        if self.identity_on:
            s_y = unwrap(w.E)(y).detach() if w.E is not None else None
            terms.add("identity", lw.identity, L.identity_loss(y, w.G(y, s_y)))
        return terms, fakes

    def d_step(self, w: Nets, batch: Batch, fakes: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
        kind, m, blur = self.losses.adversarial, batch.get("real_mask"), self.losses.d_blur
        parts = {"d_real": L.d_loss(w.D_real(d_view(batch["real"], m, blur)),
                                    w.D_real(d_view(fakes["fake_pair"].detach(), m, blur)), kind)}
        if w.D_sim is not None:
            parts["d_sim"] = L.d_loss(w.D_sim(batch["sim_t"]),
                                      w.D_sim(fakes["fake_sim"].detach()), kind)
        return parts
