"""Checkpoint directories: exact round trip, atomic files, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from sim2real_gan.models import (
    build_generator,
    build_style_encoder,
    get_preset,
    load_generator,
    load_style_encoder,
    read_config,
    save_generator,
)


def test_round_trip_rebuilds_exact_network(tmp_path: Path) -> None:
    torch.manual_seed(0)
    cfg = get_preset("tiny", aux_channels=("uv",), texture_channels=2, texture_size=8,
                     texture_levels=1)
    g = build_generator(cfg)
    torch.nn.init.normal_(g.mapping.net[-1].weight, std=0.3)
    enc = build_style_encoder(cfg)
    save_generator(tmp_path / "ck", g, cfg, {"step": 7}, style_encoder=enc)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "config.json", "generator.safetensors", "style_encoder.safetensors"]
    g2, cfg2 = load_generator(tmp_path / "ck")
    assert cfg2 == cfg and read_config(tmp_path / "ck")[1] == {"step": 7}
    x, s, uv = torch.rand(1, 3, 16, 16), torch.randn(1, cfg.style_dim), torch.rand(1, 2, 16, 16)
    with torch.no_grad():
        assert torch.equal(g.eval()(x, s, uv), g2(x, s, uv))
        ref = torch.rand(1, 3, 32, 32)
        assert torch.equal(enc(ref), load_style_encoder(tmp_path / "ck")(ref))


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_generator(tmp_path)
    cfg = get_preset("tiny")
    save_generator(tmp_path, build_generator(cfg), cfg)
    doc = json.loads((tmp_path / "config.json").read_text())
    doc["model"]["ngf"] = 16  # weights no longer match the config
    (tmp_path / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="do not match"):
        load_generator(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_generator(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="format"):
        load_generator(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
