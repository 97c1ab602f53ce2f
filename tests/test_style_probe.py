"""training.style_probe measures how much the style code changes the translation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from sim2real_gan.models import build_generator, get_preset, save_generator

from training.style_probe import probe


def test_spread_is_zero_when_style_is_ignored_and_grows_with_its_influence(
        tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny")
    g = build_generator(cfg)          # the mapping's last layer starts at zero: no style effect
    save_generator(tmp_path / "flat", g, cfg)
    flat = probe(tmp_path / "flat", [1, 2], size=32, frame=0, codes=3)
    assert flat["spread"] == pytest.approx(0.0, abs=1e-6)
    assert "ref_gap_encoded" not in flat          # no style encoder saved
    torch.nn.init.normal_(g.mapping.net[-1].weight, std=0.5)
    save_generator(tmp_path / "styled", g, cfg)
    styled = probe(tmp_path / "styled", [1, 2], size=32, frame=0, codes=3)
    assert styled["spread"] > 1e-3
    assert len(styled["scenes"]) == 2


def test_errors(tmp_path: Path) -> None:
    cfg = get_preset("tiny", style_dim=0)
    save_generator(tmp_path / "g", build_generator(cfg), cfg)
    with pytest.raises(ValueError, match="style_dim 0"):
        probe(tmp_path / "g", [1, 2], size=32)
    with pytest.raises(ValueError, match="two scene seeds"):
        probe(tmp_path / "g", [1], size=32)
