"""Issue 13 training pieces: the footage surround carries no signal to the discriminator,
real crops are drawn inside the content area, appearance jitter, the style-statistics
calibration, the synthetic real source's content mask, the reference look statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.config import load_config
from training.data.appearance import jitter_appearance
from training.data.augment import crop_frame
from training.modes import MODES
from training.modes.common import d_view, look_stats, radial_slope

TINY = ["data.sim.width=32", "data.sim.height=32", "data.real.width=32", "data.real.height=32",
        "data.crop=[32,32]"]


def _frame(seed: int, h: int = 48, w: int = 48) -> np.ndarray:
    return np.random.default_rng(seed).integers(40, 220, (h, w, 3)).astype(np.uint8)


def test_discriminator_step_ignores_the_surround() -> None:
    """Garbage outside the real content mask (a black surround, burned-in text) changes
    nothing D sees, for real and translated frames alike."""
    torch.manual_seed(0)
    cfg = load_config("tiny", [*TINY, "loss.cycle=0", "loss.d_blur=0.8"])
    mode = MODES["sim2real"](cfg)
    mode.configure(frozenset())
    nets = mode.build_nets(torch.device("cpu"))
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 6:26, 4:28] = 1
    real = torch.rand(1, 3, 32, 32) * 2 - 1
    fake = torch.rand(2, 3, 32, 32) * 2 - 1
    other_real = torch.where(mask > 0, real, torch.rand_like(real))     # text / noise outside
    other_fake = torch.where(mask > 0, fake, -torch.ones_like(fake))
    a = mode.d_step(nets, {"real": real, "real_mask": mask}, {"fake_pair": fake})
    b = mode.d_step(nets, {"real": other_real, "real_mask": mask}, {"fake_pair": other_fake})
    assert float(a["d_real"].detach()) == pytest.approx(float(b["d_real"].detach()), abs=1e-6)
    c = mode.d_step(nets, {"real": other_real}, {"fake_pair": other_fake})   # no mask: it counts
    assert float(c["d_real"].detach()) != pytest.approx(float(a["d_real"].detach()), abs=1e-4)


def test_d_view_masks_both_alike_and_blurs() -> None:
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    m = torch.zeros(1, 1, 16, 16)
    m[..., 4:12, 4:12] = 1
    v = d_view(x, m)
    assert torch.all(v[..., :4, :] == -1) and torch.equal(v[..., 4:12, 4:12], x[..., 4:12, 4:12])
    noise = torch.randn(1, 3, 32, 32) * 0.1
    assert d_view(noise, None, 1.0).std() < 0.5 * noise.std()     # per-frame noise hidden


def test_real_crops_stay_inside_the_content_area() -> None:
    fr = {"image": _frame(0, 64, 64), "mask": np.zeros((64, 64), bool)}
    fr["mask"][8:56, 8:56] = True                                  # 56% of the frame
    shares = []
    for seed in range(30):
        out = crop_frame(fr, np.random.default_rng(seed), (32, 32), min_content=0.9)
        shares.append(out["mask"].mean())
        again = crop_frame(fr, np.random.default_rng(seed), (32, 32), min_content=0.9)
        assert np.array_equal(out["image"], again["image"])           # deterministic
    assert min(shares) >= 0.9
    free = [crop_frame(fr, np.random.default_rng(s), (32, 32))["mask"].mean() for s in range(30)]
    assert min(free) < 0.9                                          # without it: any window


def test_appearance_jitter_keeps_black_and_is_seeded() -> None:
    img = _frame(1)
    img[:8] = 0                                                     # a black surround
    a = jitter_appearance(img, np.random.default_rng(3), 1.0)
    b = jitter_appearance(img, np.random.default_rng(3), 1.0)
    assert np.array_equal(a, b) and np.all(a[:8] == 0)
    changes = [np.abs(jitter_appearance(img, np.random.default_rng(s), 1.0).astype(int)
                      - img).mean() for s in range(8)]
    assert np.mean(changes) > 8                                     # visibly different looks
    assert np.array_equal(jitter_appearance(img, np.random.default_rng(3), 0.0), img)


def test_look_stats_follow_colour_and_vignetting() -> None:
    from sim2real_gan.models.vignette import rim_distance

    flat = torch.full((1, 3, 32, 32), 0.2)
    rim = rim_distance(flat)
    dark_rim = (flat + 1) * (1 - 0.6 * rim ** 2).clamp_min(0.2) - 1
    assert float(radial_slope(flat[:, :1], rim, torch.ones_like(rim))) == pytest.approx(0, abs=1e-5)
    assert float(radial_slope(dark_rim[:, :1], rim, torch.ones_like(rim))) < -0.1
    a, b = look_stats(flat, None, rim), look_stats(dark_rim, None, rim)
    assert a.shape == (1, 14) and float(b[0, -1]) < float(a[0, -1])
    red = flat.clone()
    red[:, 0] = 0.6
    assert float(look_stats(red)[0, 1]) > float(look_stats(flat)[0, 1]) + 1   # a* in units of 10


def test_synthetic_real_source_delivers_the_content_mask_and_calibration(tmp_path) -> None:
    from sim2real_gan.models.generators import StyleUNetGenerator

    from training.data import RealFrames, SimPairs, TranslationDataset, load_source

    cfg = load_config("tiny", [*TINY, "data.real.frames=4", "data.sim.frames=4",
                               "generator.overrides={style_dim: 8, style_stats: true}"])
    real = load_source(cfg.data.real, "real")
    assert "mask" in real.fields
    m = real.seqs[0][0].load()["mask"]
    assert m.dtype == bool and 0.3 < m.mean() < 1.0                 # a circle inside the frame
    sim = load_source(cfg.data.sim, "sim", ("image",))
    data = TranslationDataset(SimPairs(sim), RealFrames(real), (32, 32), jitter=1.0)
    sample = data[0]
    assert sample["real_mask"].shape == (1, 32, 32) and sample["real_rim"].shape == (1, 32, 32)
    mode = MODES["sim2real"](cfg)
    mode.configure(frozenset())
    nets = mode.build_nets(torch.device("cpu"))
    g = nets.G
    assert isinstance(g, StyleUNetGenerator) and g.stats is not None
    before = g.stats.loc.clone()
    mode.prepare(nets, data)
    assert not torch.allclose(g.stats.loc, before)                  # measured on the data
    assert torch.allclose(nets.E.stats.loc, g.stats.loc)             # E and G agree
    assert data.jitter == 1.0                                        # restored afterwards
