"""Losses on constructed cases: known zeros, monotone growth, torchmetrics agreement."""

from __future__ import annotations

import pytest
import torch
from torchmetrics.functional.image import (
    multiscale_structural_similarity_index_measure as tm_ms_ssim,
)

from training.losses import (
    content_recon_loss,
    cycle_loss,
    d_loss,
    feature_temporal_loss,
    g_adv_loss,
    identity_loss,
    semantic_loss,
    style_recon_loss,
    temporal_loss,
)
from training.structure import luminance, ms_ssim, ssim, structure_loss
from training.warp import warp


def _smooth_flow(b: int, h: int, w: int, amp: float, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(b, 2, 4, 4, generator=g) * amp
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bicubic",
                                           align_corners=True)


@pytest.mark.parametrize("kind", ["lsgan", "hinge"])
def test_adversarial_optimum_and_direction(kind: str) -> None:
    real = [torch.full((2, 1, 4, 4), 1.0), torch.full((2, 1, 2, 2), 1.0)]
    fake = [torch.full((2, 1, 4, 4), 0.0 if kind == "lsgan" else -1.0),
            torch.full((2, 1, 2, 2), 0.0 if kind == "lsgan" else -1.0)]
    assert d_loss(real, fake, kind).item() == 0.0
    assert g_adv_loss(real, kind).item() <= g_adv_loss(fake, kind).item()
    worse = [f + 0.5 for f in fake]
    assert d_loss(real, worse, kind) > d_loss(real, fake, kind)
    fooled = [torch.ones_like(f) for f in fake]
    if kind == "lsgan":
        assert g_adv_loss(fooled, kind).item() == 0.0
    with pytest.raises(ValueError, match="expected one of"):
        d_loss(real, fake, "wgan")
    with pytest.raises(ValueError, match="equal"):
        d_loss(real, fake[:1], kind)


def test_reconstruction_losses() -> None:
    x = torch.rand(2, 3, 8, 8)
    for fn in (cycle_loss, identity_loss, content_recon_loss):
        assert fn(x, x).item() == 0.0
        assert fn(x, x + 0.25).item() == pytest.approx(0.25, abs=1e-6)
        with pytest.raises(ValueError, match="shapes differ"):
            fn(x, x[:, :2])
    s = torch.randn(4, 8)
    assert style_recon_loss(s, s).item() == 0.0
    assert style_recon_loss(s, s - 1).item() == pytest.approx(1.0)


def test_warp_integer_shift_equals_roll() -> None:
    img = torch.rand(1, 3, 12, 16)
    flow = torch.zeros(1, 2, 12, 16)
    flow[:, 0], flow[:, 1] = 2.0, -1.0  # p in frame t is at p + (2, -1) in frame t+1
    out, inside = warp(img, flow)
    expected = torch.roll(img, shifts=(1, -2), dims=(2, 3))
    assert torch.allclose(out[..., 1:, :-2], expected[..., 1:, :-2], atol=1e-6)
    assert inside[..., 0, :].sum() == 0 and inside[..., :, -2:].sum() == 0
    assert inside[..., 1:, :-2].min() == 1
    with pytest.raises(ValueError, match="does not match"):
        warp(img, flow[..., :8])


def test_temporal_zero_for_consistent_pair_and_grows() -> None:
    torch.manual_seed(0)
    out_t1 = torch.rand(2, 3, 32, 32)
    flow = _smooth_flow(2, 32, 32, amp=3.0)
    out_t, _ = warp(out_t1, flow)  # O_t is exactly the flow-warped O_{t+1}
    valid = torch.ones(2, 1, 32, 32)
    assert temporal_loss(out_t, out_t1, flow, valid).item() < 1e-6
    noise = torch.randn_like(out_t1)
    losses = [temporal_loss(out_t, out_t1 + k * noise, flow, valid).item()
              for k in (0.01, 0.05, 0.2)]
    assert losses[0] < losses[1] < losses[2]


def test_temporal_ignores_occluded_pixels_and_follows_input_changes() -> None:
    torch.manual_seed(1)
    out_t1 = torch.rand(1, 3, 24, 24)
    flow = _smooth_flow(1, 24, 24, amp=2.0, seed=3)
    out_t, _ = warp(out_t1, flow)
    valid = torch.ones(1, 1, 24, 24)
    valid[..., 5:12, 5:12] = 0
    broken = out_t.clone()
    broken[..., 5:12, 5:12] += 5.0  # disocclusion: anything may appear there
    assert temporal_loss(broken, out_t1, flow, valid).item() < 1e-6
    assert temporal_loss(broken, out_t1, flow, torch.ones_like(valid)).item() > 0.1
    # Relative form: a lighting change in the input that the output copies costs nothing.
    in_t1 = torch.rand(1, 3, 24, 24)
    in_t = warp(in_t1, flow)[0] + 0.3
    assert temporal_loss(out_t + 0.3, out_t1, flow, valid, in_t, in_t1).item() < 1e-6
    assert temporal_loss(out_t, out_t1, flow, valid, in_t, in_t1).item() > 0.2


def test_feature_temporal_pools_flow() -> None:
    feat_t1 = torch.rand(1, 4, 8, 8)
    flow = torch.zeros(1, 2, 64, 64)
    flow[:, 0] = 8.0  # one feature cell to the right at 1/8 resolution
    feat_t = torch.roll(feat_t1, shifts=-1, dims=3)
    valid = torch.ones(1, 1, 64, 64)
    assert feature_temporal_loss(feat_t, feat_t1, flow, valid).item() < 1e-6
    assert feature_temporal_loss(feat_t1, feat_t1, flow, valid).item() > 0.05


def test_ms_ssim_matches_torchmetrics() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 1, 176, 176)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    ours = ms_ssim(x, y, scales=5)
    ref = tm_ms_ssim(y, x, data_range=1.0, reduction="none")
    assert torch.allclose(ours, ref, atol=2e-3)
    assert torch.allclose(ms_ssim(x, x), torch.ones(2))
    with pytest.raises(ValueError, match="do not fit"):
        ms_ssim(x[..., :40, :40], y[..., :40, :40], scales=4)
    with pytest.raises(ValueError, match="smaller than the window"):
        ssim(x[..., :8, :8], y[..., :8, :8])


def test_structure_loss_luminance_only_and_grows_with_shift() -> None:
    torch.manual_seed(0)
    sim = torch.rand(1, 3, 64, 64) * 1.6 - 0.8
    # A colour change with zero luminance change: 0.299a + 0.587b + 0.114c = 0.
    recolour = sim + torch.tensor([0.1, -0.0509, 0.0]).view(1, 3, 1, 1)
    assert torch.allclose(luminance(recolour), luminance(sim), atol=1e-4)
    assert structure_loss(sim, recolour).item() < 1e-3
    shifted = [structure_loss(sim, torch.roll(sim, k, dims=3)).item() for k in (1, 3)]
    assert 0.05 < shifted[0] <= shifted[1]
    small = structure_loss(sim[..., :8, :8], sim[..., :8, :8])  # tiny crops still work
    assert small.item() < 1e-4


def test_semantic_loss() -> None:
    labels = torch.randint(0, 4, (2, 8, 8))
    good = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float() * 10
    bad = torch.roll(good, 1, dims=1)
    assert semantic_loss(good, labels) < 0.01 < semantic_loss(bad, labels)
    with pytest.raises(ValueError, match="labels"):
        semantic_loss(good, labels[:, :4])
