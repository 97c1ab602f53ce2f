"""Shared by ``sim2real`` and ``distill``: both frames of a (t, t+1) sim pair go through G
with one style code per pair, and the pair carries the temporal losses.

Losses here (weights named in each mode's loss dataclass): ``adv`` (D_real on both
frames, seen through the real frames' content mask and ``d_blur``: common.d_view),
``structure`` (MS-SSIM luminance, input vs translation), ``temporal`` (flow-warped
output consistency, relative to the input change), ``temporal_feat`` (the same on G's
bottleneck features), ``semantic`` (a frozen segmenter must still find the sim labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from sim2real_gan.models.generators import StyleUNetGenerator
from torch import nn

from .. import losses as L
from ..distributed import unwrap
from ..nets import Nets
from ..structure import structure_loss
from .base import Batch, Feature, Mode, Terms
from .common import capture_output, d_view, draw_style, frozen

TEMPORAL, TEMPORAL_FEAT, SEMANTIC = "temporal", "temporal_feat", "semantic"


@dataclass(frozen=True)
class PairLosses:
    """The loss.* settings both pair modes read."""

    adversarial: str
    adv: float
    structure: float
    temporal: float
    temporal_feat: float
    semantic: float
    segmenter: str
    segmenter_steps: int
    segmenter_crop: int
    segmenter_jitter: float
    d_blur: float


@dataclass
class PairOut:
    """What the shared part of the G step hands to the mode's own losses."""

    x: torch.Tensor                 # (2B,3,H,W) sim frames t then t+1
    aux: torch.Tensor | None        # (2B,A,H,W)
    s: torch.Tensor | None          # (B, style_dim) style code of the pair
    s2: torch.Tensor | None         # the code repeated for both frames
    is_ref: bool                    # s was encoded from a real reference
    fake: torch.Tensor              # (2B,3,H,W) G(x, s2, aux)
    fake_t: torch.Tensor            # (B,3,H,W) its first half (the translations of x_t)
    rim: torch.Tensor | None        # (2B,1,H,W) the crops' distance from the frame centre


class PairMode(Mode):
    """Base of sim2real and distill. Subclasses set ``self.pair`` (their PairLosses view)."""

    pair: PairLosses

    def pair_features(self) -> list[Feature]:
        p, arch = self.pair, self.g_cfg.arch
        feat_block = ("" if arch == "style_unet" and self.g_cfg.n_res > 0 else
                      f"the {arch} generator (n_res {self.g_cfg.n_res}) has no AdaIN "
                      "bottleneck block to read features from")
        real_labels = ("labels",) if p.segmenter == "auto" else ()
        return [
            Feature(TEMPORAL, "temporal loss", sim_fields=("flow", "valid"),
                    keys=("loss.temporal",), wanted=p.temporal > 0),
            Feature(TEMPORAL_FEAT, "feature temporal loss", sim_fields=("flow", "valid"),
                    keys=("loss.temporal_feat",), wanted=p.temporal_feat > 0,
                    blocked=feat_block),
            Feature(SEMANTIC, "semantic loss", sim_fields=("labels",),
                    real_fields=real_labels, keys=("loss.semantic",), wanted=p.semantic > 0),
        ]

    def check(self) -> None:
        if SEMANTIC in self.on:
            from ..semantic import check_segmenter

            check_segmenter(self.pair.segmenter, self.cfg.data.real)

    def segmenter(self, device: torch.device, progress: bool) -> nn.Module | None:
        """Train (``auto``/``auto-sim``) or load the frozen segmenter when semantic is on."""
        if SEMANTIC not in self.on:
            return None
        from ..semantic import segmenter_for

        return segmenter_for(self.pair.segmenter, self.pair.segmenter_steps,
                             self.pair.segmenter_crop, self.cfg.data, self.cfg.seed,
                             progress, self.pair.segmenter_jitter).to(device)

    def _feature_block(self, G: nn.Module) -> nn.Module | None:
        if TEMPORAL_FEAT not in self.on:
            return None
        g = unwrap(G)
        assert isinstance(g, StyleUNetGenerator)  # guaranteed by the feature's check
        return g.blocks[-1]

    def pair_step(self, w: Nets, batch: Batch, gen: torch.Generator,
                  segmenter: nn.Module | None, ref_prob: float = 0.0, ref_grad: bool = False
                  ) -> tuple[Terms, PairOut]:
        """The shared losses of the pair; E (when present) may style it from a reference."""
        p = self.pair
        x_t = batch["sim_t"]
        b = x_t.shape[0]
        x = torch.cat([x_t, batch["sim_t1"]])
        aux = torch.cat([batch["aux_t"], batch["aux_t1"]]) if self.g_cfg.aux_channels else None
        s, is_ref = draw_style(self.g_cfg.style_dim, b, gen, x_t.device, w.E,
                               batch.get("real"), ref_prob, ref_grad)
        s2 = None if s is None else torch.cat([s, s])
        rim = torch.cat([batch["sim_rim"]] * 2) if "sim_rim" in batch else None
        with capture_output(self._feature_block(w.G)) as feats:
            fake = w.G(x, s2, aux, rim)
        fake_t, fake_t1 = fake[:b], fake[b:]
        terms = Terms()
        D_real = frozen(w.D_real)
        if D_real is not None and p.adv > 0:
            seen = d_view(fake, batch.get("real_mask"), p.d_blur)
            terms.add("adv", p.adv, L.g_adv_loss(D_real(seen), p.adversarial))
        if p.structure > 0:
            terms.add("structure", p.structure, structure_loss(x, fake))
        if TEMPORAL in self.on:
            terms.add("temporal", p.temporal, L.temporal_loss(
                fake_t, fake_t1, batch["flow"], batch["valid"], x_t, batch["sim_t1"]))
        if feats:
            f = feats[-1]
            terms.add("temporal_feat", p.temporal_feat, L.feature_temporal_loss(
                f[:b], f[b:], batch["flow"], batch["valid"]))
        if SEMANTIC in self.on and segmenter is not None:
            terms.add("semantic", p.semantic,
                      L.semantic_loss(segmenter(fake_t), batch["labels_t"]))
        return terms, PairOut(x, aux, s, s2, is_ref, fake, fake_t, rim)
