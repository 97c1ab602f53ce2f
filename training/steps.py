"""Per-mode loss computation for one generator step and one discriminator step.

``g_losses`` returns named, unweighted losses plus the fakes the discriminator step needs;
``weighted_sum`` applies ``LossConfig`` weights. Discriminators are called unwrapped and
frozen during the generator step; everything else goes through the (DDP) wrappers.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from . import losses as L
from .config import TrainConfig
from .distributed import unwrap
from .structure import structure_loss

Batch = dict[str, torch.Tensor]

#: loss name -> LossConfig weight field
WEIGHTS = {"adv": "adv", "adv_sim": "adv", "cycle": "cycle", "cycle_real": "cycle",
           "identity": "identity", "style": "style", "content": "content",
           "structure": "structure", "temporal": "temporal", "temporal_feat": "temporal_feat",
           "l1": "l1", "semantic": "semantic", "ref_stats": "ref_stats"}


def weighted_sum(cfg: TrainConfig, parts: dict[str, torch.Tensor]) -> torch.Tensor:
    total = None
    for k, v in parts.items():
        term = getattr(cfg.loss, WEIGHTS[k]) * v
        total = term if total is None else total + term
    return total


@contextmanager
def capture_output(module: nn.Module):
    """Record ``module``'s forward output in the yielded list."""
    out: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda m, i, o: out.append(o))
    try:
        yield out
    finally:
        handle.remove()


def _frozen(m: nn.Module | None) -> nn.Module | None:
    return None if m is None else unwrap(m).requires_grad_(False)


def _style(cfg: TrainConfig, w: dict[str, nn.Module], batch: Batch, b: int,
           gen: torch.Generator) -> tuple[torch.Tensor | None, bool]:
    """Style code for this step -> (s (B, style_dim) or None, drawn from a real reference?).

    A reference code keeps its graph to E only when ``loss.ref_stats`` needs it.
    """
    sd = unwrap(w["G"]).style_dim
    if not sd:
        return None, False
    dev = batch["sim_t"].device
    use_ref = ("real" in batch and "E" in w and
               torch.rand((), generator=gen).item() < cfg.loss.ref_style_prob)
    if use_ref:
        if cfg.loss.ref_stats > 0:
            return w["E"](batch["real"]), True
        with torch.no_grad():
            return unwrap(w["E"])(batch["real"]).detach(), True
    return torch.randn(b, sd, generator=gen).to(dev), False


def _stats(img: torch.Tensor) -> torch.Tensor:
    """Per-channel mean and std at full and 1/4 resolution: (B, 12)."""
    small = F.avg_pool2d(img, 4)
    return torch.cat([img.mean((2, 3)), img.std((2, 3)), small.mean((2, 3)),
                      small.std((2, 3))], 1)


def g_losses(cfg: TrainConfig, w: dict[str, nn.Module], batch: Batch, gen: torch.Generator,
             teacher: nn.Module | None = None, segmenter: nn.Module | None = None
             ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """-> (unweighted losses, fakes/images for the D step and logging)."""
    mode, lw = cfg.mode, cfg.loss
    G = w["G"]
    x_t = batch["sim_t"]
    b = x_t.shape[0]
    D_real, D_sim = _frozen(w.get("D_real")), _frozen(w.get("D_sim"))
    out: dict[str, torch.Tensor] = {}
    parts: dict[str, torch.Tensor] = {}
    if mode == "cyclegan":
        y = batch["real"]
        fake = G(x_t)
        fake_sim = w["F"](y)
        parts["adv"] = L.g_adv_loss(D_real(fake), lw.adversarial)
        parts["adv_sim"] = L.g_adv_loss(D_sim(fake_sim), lw.adversarial)
        parts["cycle"] = L.cycle_loss(x_t, w["F"](fake))
        parts["cycle_real"] = L.cycle_loss(y, G(fake_sim))
        if lw.identity > 0:
            parts["identity"] = L.identity_loss(y, G(y)) + L.identity_loss(x_t, w["F"](x_t))
        out.update(fake=fake, fake_sim=fake_sim)
        return parts, out
    if mode == "pix2pix":
        s, _ = _style(cfg, w, batch, b, gen)
        fake = G(x_t, s, batch.get("aux_t"))
        parts["adv"] = L.g_adv_loss(D_real(torch.cat([x_t, fake], 1)), lw.adversarial)
        parts["l1"] = L.l1(fake, batch["target_t"])
        if lw.structure > 0:
            parts["structure"] = structure_loss(x_t, fake)
        out.update(fake=fake)
        return parts, out
    # sim2real and distill: both frames of the pair, one style per pair (per episode).
    x = torch.cat([x_t, batch["sim_t1"]])
    aux = torch.cat([batch["aux_t"], batch["aux_t1"]]) if "aux_t" in batch else None
    s, is_ref = _style(cfg, w, batch, b, gen)
    s2 = None if s is None else torch.cat([s, s])
    g_raw = unwrap(G)
    feat_layer = g_raw.blocks[-1] if getattr(g_raw, "blocks", None) else None
    with capture_output(feat_layer) if (lw.temporal_feat > 0 and feat_layer) else _null() as feats:
        fake = G(x, s2, aux)
    fake_t, fake_t1 = fake[:b], fake[b:]
    out.update(fake=fake_t, fake_pair=fake)
    if D_real is not None and lw.adv > 0:
        parts["adv"] = L.g_adv_loss(D_real(fake), lw.adversarial)
    if lw.structure > 0:
        parts["structure"] = structure_loss(x, fake)
    if lw.temporal > 0 and "flow" in batch:
        parts["temporal"] = L.temporal_loss(fake_t, fake_t1, batch["flow"], batch["valid"],
                                            x_t, batch["sim_t1"])
    if feats:
        f = feats[-1]
        parts["temporal_feat"] = L.feature_temporal_loss(f[:b], f[b:], batch["flow"],
                                                         batch["valid"])
    if lw.semantic > 0 and segmenter is not None and "labels_t" in batch:
        parts["semantic"] = L.semantic_loss(segmenter(fake_t), batch["labels_t"])
    if mode == "distill":
        with torch.no_grad():
            target = teacher(x, s2, aux)
        parts["l1"] = L.l1(fake, target)
        out["teacher"] = target[:b]
        return parts, out
    if "E" in w and lw.style > 0:
        parts["style"] = L.style_recon_loss(s.detach(), w["E"](fake_t))
    if is_ref and lw.ref_stats > 0:  # the reference's look must come through the code
        parts["ref_stats"] = L.l1(_stats(fake_t), _stats(batch["real"]), "ref_stats")
    if lw.content > 0 and hasattr(g_raw, "encode"):
        parts["content"] = L.content_recon_loss(g_raw.encode(x, aux).detach(),
                                                g_raw.encode(fake, aux))
    if "F" in w:
        y = batch["real"]
        fake_sim = w["F"](y)
        out["fake_sim"] = fake_sim
        parts["cycle"] = L.cycle_loss(x_t, w["F"](fake_t))
        parts["adv_sim"] = L.g_adv_loss(D_sim(fake_sim), lw.adversarial)
        if aux is None:  # the backward cycle needs sim aux channels a real frame lacks
            s_y = w["E"](y) if "E" in w else None
            parts["cycle_real"] = L.cycle_loss(y, G(fake_sim, s_y))
    if lw.identity > 0 and aux is None and "real" in batch:
        y = batch["real"]
        s_y = unwrap(w["E"])(y).detach() if "E" in w else None
        parts["identity"] = L.identity_loss(y, G(y, s_y))
    return parts, out


@contextmanager
def _null():
    yield []


def d_losses(cfg: TrainConfig, w: dict[str, nn.Module], batch: Batch,
             fakes: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Discriminator losses on detached fakes (unweighted; D losses are summed)."""
    kind = cfg.loss.adversarial
    parts = {}
    if cfg.mode == "pix2pix":
        x = batch["sim_t"]
        d = w["D_real"]
        real = d(torch.cat([x, batch["target_t"]], 1))
        fake = d(torch.cat([x, fakes["fake"].detach()], 1))
        parts["d_real"] = L.d_loss(real, fake, kind)
        return parts
    if "D_real" in w and "real" in batch:
        fake = fakes.get("fake_pair", fakes["fake"]).detach()
        parts["d_real"] = L.d_loss(w["D_real"](batch["real"]), w["D_real"](fake), kind)
    if "D_sim" in w and "fake_sim" in fakes:
        parts["d_sim"] = L.d_loss(w["D_sim"](batch["sim_t"]),
                                  w["D_sim"](fakes["fake_sim"].detach()), kind)
    return parts
