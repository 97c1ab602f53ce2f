"""Training with stereo pairs: the cross-view loss (zero on consistent pairs, gradient to
the right view), stereo sources (simulator, a stereo bag with recorded or SGBM-estimated
disparity, cached), aligned crops without horizontal flips, and the sim2real mode's switch."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from sim2real_gan.cli.main import main

from training.data import SimPairs, SourceConfig, TranslationDataset, load_source
from training.losses import stereo_loss

STEREO_WANTED = ("image", "right", "disparity", "disparity_valid")


def shifted(d: int, h: int = 16, w: int = 24, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A left/right pair of a plane at disparity ``d`` (x_right = x_left - d)."""
    scene = torch.rand(1, 3, h, w + d, generator=torch.Generator().manual_seed(seed))
    left, right = scene[..., :w], scene[..., d:w + d]
    disp = torch.full((1, 1, h, w), float(d))
    valid = torch.ones(1, 1, h, w)
    return left, right, disp, valid


def test_stereo_loss_zero_on_a_consistent_pair_and_grows() -> None:
    left, right, disp, valid = shifted(3)
    assert stereo_loss(left, right, disp, valid).item() == pytest.approx(0.0, abs=1e-6)
    assert stereo_loss(left, right, disp + 2, valid).item() > 0.1
    # relative to the inputs: outputs that differ exactly as the inputs do cost nothing
    tint = torch.tensor([0.1, -0.2, 0.05]).view(1, 3, 1, 1)
    assert stereo_loss(left + tint, right, disp, valid, left + tint, right).item() == \
        pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"expected disparity \(B,1,H,W\)"):
        stereo_loss(left, right, disp[:, 0], valid)


def test_stereo_loss_gradient_reaches_the_right_view_only_where_valid() -> None:
    left, right, disp, valid = shifted(3)
    valid[..., :, :12] = 0
    out_r = (right + 0.3 * torch.rand_like(right)).requires_grad_(True)
    stereo_loss(left, out_r, disp, valid).backward()
    g = out_r.grad.abs().sum(1)[0]
    assert g.sum() > 0
    assert g[:, :6].sum() == 0  # right columns < 12 - 3 - 3 only feed masked left pixels


def test_simulator_stereo_source_and_dataset_keep_the_pair_aligned() -> None:
    cfg = SourceConfig(kind="synthetic", seeds=[4], frames=3, width=64, height=48, stereo=True)
    data = load_source(cfg, "sim", ("image", "flow", "valid", *STEREO_WANTED))
    assert {"right", "disparity", "disparity_valid"} <= set(data.fields)
    ds = TranslationDataset(SimPairs(data), None, (40, 48), seed=0, hflip=True)
    for n in range(6):  # hflip on: a stereo pair must still never be mirrored
        s = ds[n]
        left, right = s["sim_t"][None], s["right_t"][None]
        flow = torch.cat([-s["disparity"], torch.zeros_like(s["disparity"])])[None]
        from training.warp import warp

        warped, inside = warp(right, flow)
        m = s["disparity_valid"][None] * inside
        err = ((left - warped).abs() * m).sum() / m.sum().clamp_min(1)
        assert m.sum() > 100 and err < 0.05, (n, float(err))
    mono = load_source(SourceConfig(kind="synthetic", seeds=[4], frames=3, width=64,
                                    height=48), "sim", ("image", *STEREO_WANTED))
    assert "right" not in mono.fields


def test_stereo_bag_recorded_and_estimated_disparity(tmp_path: Path) -> None:
    bag = tmp_path / "stereo_bag"
    assert main(["simulate", str(bag), "--stereo", "--frames", "3", "--width", "96",
                 "--height", "64", "--seed", "7", "--no-progress"]) == 0
    base = dict(kind="bag", paths=[str(bag)], stereo=True, cache=str(tmp_path / "cache"))
    rec = load_source(SourceConfig(**base), "sim", STEREO_WANTED)
    assert "disparity: recorded" in " ".join(rec.summary)
    off = {"disparity": "", "disparity_valid": ""}
    est = load_source(SourceConfig(**base, topics=off), "sim", STEREO_WANTED)
    assert "disparity: estimated (OpenCV SGBM + left-right check; 3 pairs computed" in \
        " ".join(est.summary)
    again = load_source(SourceConfig(**base, topics=off), "sim", STEREO_WANTED)
    assert "0 pairs computed" in " ".join(again.summary)  # cached
    a, b = rec.seqs[0][1].load(), est.seqs[0][1].load()
    both = a["disparity_valid"] & b["disparity_valid"]
    assert both.mean() > 0.5
    assert np.abs(a["disparity"] - b["disparity"])[both].mean() < 1.0
    with pytest.raises(ValueError, match="disparity: gt, but the source has no disparity"):
        load_source(SourceConfig(**base, topics=off, disparity="gt"), "sim", STEREO_WANTED)


def test_sim2real_trains_with_the_stereo_loss_and_switches_it_off_without_pairs(
        tmp_path: Path, caplog) -> None:
    common = ["train", "-c", "tiny", "--set", "steps=2", "--set", "log_every=1",
              "--set", "progress=false", "--set", "ckpt_every=2"]
    out = tmp_path / "stereo"
    assert main([*common, "--out", str(out), "--set", "data.sim.stereo=true",
                 "--set", "loss.stereo=1.0"]) == 0
    meta = json.loads((out / "checkpoints" / "step_0000002" / "config.json").read_text())
    assert meta["meta"]["losses"]["g/stereo"] > 0
    code = main([*common, "--out", str(tmp_path / "mono"), "--set", "loss.stereo=1.0"])
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert code == 2 and "loss.stereo was set on the command line, but no right/disparity/" \
        "disparity_valid in the sim data" in errors[-1]
    recipe = tmp_path / "tiny_stereo.yaml"  # in a recipe, on mono data: off with one line
    text = (Path("training/configs/tiny.yaml")).read_text().replace(
        "temporal: 1.0}", "temporal: 1.0, stereo: 1.0}")
    recipe.write_text(text)
    caplog.clear()
    caplog.set_level(logging.INFO)
    assert main([*common[:2], str(recipe), *common[3:], "--out", str(tmp_path / "m2")]) == 0
    assert any("stereo loss off" in r.getMessage() for r in caplog.records)
