"""training.flow_experiment: warping error with ground-truth flow on held-out scenes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from training.flow_experiment import main, measure, table


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim2real_gan.models import build_generator, get_preset, save_generator

    path = tmp_path_factory.mktemp("fx") / "tiny"
    torch.manual_seed(0)
    cfg = get_preset("tiny")
    save_generator(path, build_generator(cfg), cfg, meta={"resolution": [32, 32]})
    return path


def test_measure_scores_with_the_simulators_ground_truth(ckpt: Path) -> None:
    from sim2real_gan.eval.data import TEST_SEEDS, seeds, simulate_sequences
    from sim2real_gan.eval.temporal import warping_error

    rows = measure([f"m={ckpt}"], [32, 48], sequences=2, frames=3, progress=False)
    assert [r.name for r in rows] == ["no translation", "m"]
    for r in rows:
        assert sorted(r.per_size) == [32, 48]
        for mean, per in r.per_size.values():
            assert len(per) == 2 and np.isfinite(per).all() and mean == pytest.approx(np.mean(per))
    seqs = simulate_sequences(seeds(TEST_SEEDS, 2), 3, 48, 48, ("sim",))
    direct = [warping_error(seqs.rgb["sim"][i], seqs.flow[i], seqs.flow_valid[i]).mean
              for i in range(2)]
    assert rows[0].per_size[48][1] == pytest.approx(direct)  # the input under GT flow + mask
    zero = [warping_error(seqs.rgb["sim"][i], np.zeros_like(seqs.flow[i]),
                          seqs.flow_valid[i]).mean for i in range(2)]
    assert np.mean(direct) < np.mean(zero)  # GT flow explains the motion


def test_table_gives_each_model_relative_to_the_reference(ckpt: Path) -> None:
    rows = measure([f"m={ckpt}"], [32], sequences=1, frames=3, progress=False)
    text = table(rows, "m").splitlines()
    assert text[0] == "| model | E_warp @32 (x1e-4) | vs m @32 |"
    ratio = rows[0].per_size[32][0] / rows[1].per_size[32][0]
    assert text[2].endswith(f"| {ratio:.2f}x |") and text[3].endswith("| 1.00x |")


def test_cli_writes_json_and_refuses_an_unknown_reference(ckpt: Path, tmp_path: Path,
                                                          capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--model", f"m={ckpt}", "--reference", "gt", "--sizes", "32"])
    assert e.value.code == 2 and "--reference 'gt' is not one of the models ['m']" in \
        capsys.readouterr().err
    out = tmp_path / "r" / "we.json"
    assert main(["--model", f"m={ckpt}", "--sizes", "32", "--sequences", "1", "--frames", "3",
                 "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert set(doc["warping_error"]) == {"no translation", "m"} and doc["reference"] == "m"
    assert doc["machine"]["cpu_count"] >= 1 and len(doc["machine"]["loadavg_at_end"]) == 3
    assert "| m |" in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ["we.json"]  # no temporary left


def test_estimated_flow_with_labels_keeps_off_object_boundaries(tmp_path: Path) -> None:
    """With a labels topic, training's estimated validity drops pixels whose warp footprint
    straddles two classes (as the simulator's ground-truth mask does): higher precision."""
    from sim2real_gan.sim.config import SimConfig, scene_seed_for
    from sim2real_gan.sim.gazebo_like import write_gazebo_bag
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    from training.data import SourceConfig, load_source

    bag = write_gazebo_bag(tmp_path / "gz", frames=6, seed=2, width=64, height=48)
    truth = list(EndoscopeSimulator(SimConfig(width=64, height=48),
                                    scene_seed_for(2, "sim")).frames(6))
    gt_ok = np.stack([f.flow_valid for f in truth[:-1]])

    def precision(topics: dict) -> tuple[float, tuple]:
        data = load_source(SourceConfig(kind="bag", paths=[str(bag.path)], cache=str(tmp_path),
                                        topics=topics), "sim", ("flow", "valid"))
        ok = np.stack([f.load()["valid"] for f in data.seqs[0][:-1]])
        return float((ok & gt_ok).sum() / ok.sum()), data.fields

    with_labels, fields = precision({})
    without, fields_off = precision({"labels": ""})
    assert "labels" in fields and "labels" not in fields_off
    assert with_labels > without + 0.03 and with_labels > 0.9


def test_summary_averages_over_training_seeds() -> None:
    from training.flow_experiment import Scores, summary

    def s(name: str, v64: float, v256: float) -> Scores:
        return Scores(name, {64: (v64, [v64]), 256: (v256, [v256])})

    rows = [s("no translation", 1, 1), s("gt-seed0", 4, 8), s("est-seed0", 5, 12),
            s("gt-seed1", 8, 12), s("est-seed1", 8, 12), s("est-seed2", 11, 18)]
    text, doc = summary(rows, "gt-seed0")
    assert doc["gt"]["64"]["ratio"] == 1 and doc["gt"]["seeds"] == ["0", "1"]
    assert doc["est"]["64"] == {"mean": 8.0, "ratio": pytest.approx(8 / 6),
                                "per_seed": [1.25, 1.0]}  # seed 2 has no gt partner
    assert doc["est"]["256"]["ratio"] == pytest.approx(14 / 10)
    assert "| est | 3 | 80000.00 | 1.33x | 1.25x, 1.00x |" in text
