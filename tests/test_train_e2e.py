"""Training end to end: CLI smoke (train -> checkpoint -> export -> translate), every mode,
exact resume, YAML/override validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training.config import load_config
from training.trainer import Trainer

SMALL = ["data.sim.seeds=[0]", "data.sim.frames=3", "data.sim.width=32", "data.sim.height=32",
         "data.real.seeds=[0]", "data.real.frames=2", "data.real.width=32",
         "data.real.height=32", "data.crop=[32,32]", "data.batch_size=1", "progress=false",
         "threads=1", "log_every=1", "image_every=2"]


def test_cli_smoke_train_export_translate(tmp_path: Path) -> None:
    from sim2real_gan.cli.main import main

    run = tmp_path / "run"
    args = ["train", "--config", "tiny", "--steps", "1", "--out", str(run)]
    for ov in SMALL:
        args += ["--set", ov]
    assert main(args) == 0
    ck = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert sorted(p.name for p in ck.iterdir()) == [
        "config.json", "generator.safetensors", "style_encoder.safetensors",
        "trainer_state.json", "trainer_state.safetensors"]
    assert list((run / "tb").glob("events.out.tfevents.*"))
    assert not list((run / "checkpoints").glob(".tmp*"))
    from sim2real_gan.export.exporter import export_artifact
    from sim2real_gan.runtime.translator import Translator

    export_artifact(ck, tmp_path / "artifact")
    tr = Translator.from_artifact(tmp_path / "artifact", backend="onnxruntime")
    out = tr.translate(np.full((40, 56, 3), 90, np.uint8))
    assert out.shape == (40, 56, 3) and out.dtype == np.uint8


def _history(cfg_over: list[str], out: Path, steps: int, resume: Path | None = None) -> list:
    cfg = load_config("tiny", [*SMALL, *cfg_over, f"out_dir={out}", f"steps={steps}",
                               "ckpt_every=2"])
    t = Trainer(cfg, resume=resume)
    t.fit()
    return t.history


def test_without_progress_bar_each_log_step_is_a_log_line(tmp_path: Path, caplog) -> None:
    caplog.set_level("INFO", logger="sim2real_gan.train")
    _history([], tmp_path / "run", 2)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step ")]
    assert [ln.split()[1] for ln in lines] == ["1/2", "2/2"]
    assert "g/total=" in lines[-1]


def test_resume_continues_the_same_loss_curve(tmp_path: Path) -> None:
    full = _history([], tmp_path / "a", 4)
    part = _history([], tmp_path / "b", 4, resume=tmp_path / "a" / "checkpoints" / "step_0000002")
    assert [h["step"] for h in part] == [3, 4]
    for a, b in zip(full[2:], part, strict=True):
        for k in a:
            assert b[k] == pytest.approx(a[k], rel=1e-4, abs=1e-6), k
    # And a run that never resumed differs from one with another seed (the check can fail).
    other = _history(["seed=1"], tmp_path / "c", 2)
    assert other[0]["g/total"] != pytest.approx(full[0]["g/total"], rel=1e-4)


@pytest.mark.parametrize("mode", ["cyclegan", "pix2pix", "distill", "sim2real_aux",
                                  "sim2real_semantic", "sim2real_semantic_sim"])
def test_every_mode_runs_and_learns_something(tmp_path: Path, mode: str) -> None:
    over = ["steps=2", f"out_dir={tmp_path / 'run'}"]
    if mode == "cyclegan":
        over += ["mode=cyclegan", "generator.overrides={style_dim: 0}", "loss.identity=0.5"]
    elif mode == "pix2pix":
        over += ["mode=pix2pix", "data.real=null", "data.sim.paired=true"]
    elif mode == "sim2real_aux":
        over += ["generator.overrides={aux_channels: [uv, depth], texture_channels: 2, "
                 "texture_size: 16, texture_levels: 2}", "loss.temporal_feat=1.0",
                 "loss.content=1.0", "loss.identity=1.0", "data.labels=true"]
    elif mode == "sim2real_semantic":
        over += ["loss.semantic=1.0", "loss.segmenter=auto", "loss.segmenter_steps=2",
                 "loss.ref_style_prob=1.0", "loss.ref_stats=1.0"]
    elif mode == "sim2real_semantic_sim":
        over += ["loss.semantic=1.0", "loss.segmenter=auto-sim", "loss.segmenter_steps=2"]
    else:
        from sim2real_gan.models import build_generator, get_preset, save_generator

        teacher = tmp_path / "teacher"
        cfg = get_preset("tiny", ngf=12)
        save_generator(teacher, build_generator(cfg), cfg)
        over += ["mode=distill", f"teacher={teacher}", "data.real=null", "loss.adv=0"]
    cfg = load_config("tiny", [*SMALL, *over])
    t = Trainer(cfg)
    before = [p.detach().clone() for p in t.nets.G.parameters()]
    t.fit()
    assert all(np.isfinite(v) for h in t.history for v in h.values())
    changed = sum(not torch.equal(a, b) for a, b in zip(before, t.nets.G.parameters(),
                                                       strict=True))
    assert changed > len(before) // 2
    expected = {"cyclegan": ["g/cycle_real"], "pix2pix": ["g/l1"], "distill": ["g/l1"],
                "sim2real_aux": ["g/temporal_feat", "g/content"],
                "sim2real_semantic": ["g/semantic", "g/ref_stats"],
                "sim2real_semantic_sim": ["g/semantic"]}[mode]
    assert all(k in t.history[-1] for k in expected)


def test_config_errors_are_specific(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown key"):
        load_config("tiny", ["optim.lr=1"])
    with pytest.raises(ValueError, match="mode"):
        load_config("tiny", ["mode=munit"])
    with pytest.raises(ValueError, match="expected a number"):
        load_config("tiny", ["optim.lr_g=fast"])
    with pytest.raises(ValueError, match="teacher"):
        load_config("tiny", ["mode=distill"])
    with pytest.raises(FileNotFoundError, match="presets"):
        load_config("nonexistent")
    with pytest.raises(ValueError, match="size_multiple"):
        Trainer(load_config("tiny", [*SMALL, "data.crop=[30,30]", f"out_dir={tmp_path}"]))
    with pytest.raises(FileNotFoundError, match="no trainer checkpoint"):
        Trainer(load_config("tiny", [*SMALL, f"out_dir={tmp_path}"]), resume=tmp_path)
