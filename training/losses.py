"""GAN and translation losses. Symbols: x sim frame, y real frame, G sim->real, F real->sim,
E style encoder, s style code, D discriminator (a list of multi-scale patch logits)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .warp import downsample_flow, warp

ADVERSARIAL = ("lsgan", "hinge")


def _check_kind(kind: str) -> None:
    if kind not in ADVERSARIAL:
        raise ValueError(f"adversarial loss: expected one of {ADVERSARIAL}, got {kind!r}")


def d_loss(real_logits: Sequence[torch.Tensor], fake_logits: Sequence[torch.Tensor],
           kind: str = "lsgan") -> torch.Tensor:
    """Discriminator loss averaged over scales. LSGAN: (D(y)-1)^2 + D(G(x))^2, halved;
    hinge: relu(1-D(y)) + relu(1+D(G(x)))."""
    _check_kind(kind)
    if len(real_logits) != len(fake_logits) or not real_logits:
        raise ValueError(f"d_loss: expected equal, non-empty scale lists, got "
                         f"{len(real_logits)} and {len(fake_logits)}")
    total = real_logits[0].new_zeros(())
    for r, f in zip(real_logits, fake_logits, strict=True):
        if kind == "lsgan":
            total = total + 0.5 * ((r - 1).square().mean() + f.square().mean())
        else:
            total = total + F.relu(1 - r).mean() + F.relu(1 + f).mean()
    return total / len(real_logits)


def g_adv_loss(fake_logits: Sequence[torch.Tensor], kind: str = "lsgan") -> torch.Tensor:
    """Generator adversarial loss averaged over scales. LSGAN: (D(G(x))-1)^2; hinge: -D(G(x))."""
    _check_kind(kind)
    if not fake_logits:
        raise ValueError("g_adv_loss: empty list of discriminator outputs")
    total = fake_logits[0].new_zeros(())
    for f in fake_logits:
        total = total + ((f - 1).square().mean() if kind == "lsgan" else -f.mean())
    return total / len(fake_logits)


def l1(a: torch.Tensor, b: torch.Tensor, name: str = "l1") -> torch.Tensor:
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")
    return (a - b).abs().mean()


def cycle_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """|x - F(G(x))|_1 (CycleGAN)."""
    return l1(x, x_rec, "cycle_loss")


def identity_loss(y: torch.Tensor, g_y: torch.Tensor) -> torch.Tensor:
    """|y - G(y)|_1: a real frame fed to the sim->real generator should stay unchanged."""
    return l1(y, g_y, "identity_loss")


def style_recon_loss(s: torch.Tensor, s_rec: torch.Tensor) -> torch.Tensor:
    """|s - E(G(x, s))|_1 (MUNIT style reconstruction); s (B, style_dim)."""
    return l1(s, s_rec, "style_recon_loss")


def content_recon_loss(c: torch.Tensor, c_rec: torch.Tensor) -> torch.Tensor:
    """|c(x) - c(G(x, s))|_1 on content features (MUNIT content reconstruction)."""
    return l1(c, c_rec, "content_recon_loss")


def temporal_loss(out_t: torch.Tensor, out_t1: torch.Tensor, flow: torch.Tensor,
                  valid: torch.Tensor, in_t: torch.Tensor | None = None,
                  in_t1: torch.Tensor | None = None) -> torch.Tensor:
    """Short-term temporal consistency (Lai et al. 2018; ReCoNet, Gao et al. 2018).

    Masked mean of |O_t - W(O_{t+1})|_1 over the valid, in-view pixels, where W warps by
    the ground-truth forward flow (B,2,H,W) and ``valid`` (B,1,H,W) is the non-occlusion
    mask. With the inputs given, the output change is compared with the input change
    (``(O_t - W O_{t+1}) - (I_t - W I_{t+1})``), so lighting changes present in the
    simulation are allowed. Zero for a flow-consistent pair; grows with inconsistency.
    Works for images or features (any C, any H, W matching the flow).
    """
    if out_t.shape != out_t1.shape:
        raise ValueError(f"temporal_loss: outputs differ, {tuple(out_t.shape)} vs "
                         f"{tuple(out_t1.shape)}")
    if valid.ndim != 4 or valid.shape[1] != 1 or valid.shape[2:] != out_t.shape[2:]:
        raise ValueError(f"temporal_loss: expected valid (B,1,{out_t.shape[2]},{out_t.shape[3]}), "
                         f"got {tuple(valid.shape)}")
    warped, inside = warp(out_t1, flow)
    diff = out_t - warped
    if in_t is not None and in_t1 is not None:
        diff = diff - (in_t - warp(in_t1, flow)[0])
    mask = valid.to(diff.dtype) * inside
    return (diff.abs() * mask).sum() / (mask.sum() * diff.shape[1]).clamp_min(1.0)


def stereo_loss(out_left: torch.Tensor, out_right: torch.Tensor, disparity: torch.Tensor,
                valid: torch.Tensor, in_left: torch.Tensor | None = None,
                in_right: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-view consistency of a stereo pair: :func:`temporal_loss` with the right view as
    the "next frame" and the flow (-d, 0) of the left -> right disparity ``d`` (B,1,H,W) px
    (``x_right = x_left - d``), masked by ``valid`` (B,1,H,W) (visible in both views). With
    the inputs, the outputs' difference is compared with the inputs' (view-dependent shading
    of the simulation is allowed). Zero for a disparity-consistent pair."""
    if disparity.ndim != 4 or disparity.shape[1] != 1:
        raise ValueError(f"stereo_loss: expected disparity (B,1,H,W), got "
                         f"{tuple(disparity.shape)}")
    flow = torch.cat([-disparity, torch.zeros_like(disparity)], dim=1)
    return temporal_loss(out_left, out_right, flow, valid, in_left, in_right)


def feature_temporal_loss(feat_t: torch.Tensor, feat_t1: torch.Tensor, flow: torch.Tensor,
                          valid: torch.Tensor) -> torch.Tensor:
    """Temporal loss on (B,C,h,w) features: flow and mask are pooled to the feature size."""
    factor = flow.shape[-1] // feat_t.shape[-1]
    if factor < 1 or flow.shape[-1] != feat_t.shape[-1] * factor:
        raise ValueError(f"feature_temporal_loss: feature width {feat_t.shape[-1]} does not "
                         f"divide flow width {flow.shape[-1]}")
    f, v = downsample_flow(flow, valid, factor)
    return temporal_loss(feat_t, feat_t1, f, v)


def semantic_loss(seg_logits: torch.Tensor, labels: torch.Tensor,
                  ignore_index: int = 255) -> torch.Tensor:
    """Cross-entropy of a (frozen) segmenter's logits (B,K,H,W) on G(x) against the sim labels
    (B,H,W) int: labels must not move (Pfeiffer et al. 2019, Rivoir et al. 2021)."""
    if seg_logits.ndim != 4 or labels.shape != (seg_logits.shape[0], *seg_logits.shape[2:]):
        raise ValueError(f"semantic_loss: expected logits (B,K,H,W) and labels (B,H,W), got "
                         f"{tuple(seg_logits.shape)} and {tuple(labels.shape)}")
    return F.cross_entropy(seg_logits, labels.long(), ignore_index=ignore_index)
