"""Targets and the report writer on a constructed result (no protocol run)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sim2real_gan.eval.protocol import ProtocolConfig, ProtocolResult, check_targets
from sim2real_gan.eval.report import FIGURES, metrics_table, write_report


def _method(warp: float, kid: float, label: float, down: float, streaks: float = 0.1) -> dict:
    iou = {"miou": label, "per_class": [label] * 7 + [float("nan")], "pixel_accuracy": 0.9}
    return {"method": {"kind": "test"}, "warping_error": warp, "tof": 0.1, "ssim": 0.8,
            "kid": kid, "kid_std": 0.01, "fid": 3.0, "domain_accuracy": 0.7,
            "artifacts": {"streak_excess": streaks, "checker_ratio": 1.2},
            "label_preservation": iou,
            "downstream": {"miou": down, "per_class": [down] * 8, "pixel_accuracy": 0.8},
            "ms_per_frame": 1.0}


def _result() -> ProtocolResult:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 4, 16, 16, 3), dtype=np.uint8)
    methods = {"no translation": _method(0.001, 5.0, 0.40, 0.30),
               "cyclegan": _method(0.010, 2.0, 0.50, 0.36),
               "ours": _method(0.004, 1.5, 0.46, 0.34, streaks=0.4)}
    return ProtocolResult(
        config=ProtocolConfig().to_dict(), machine={"platform": "test", "cpu_count": 2,
                                                    "torch": "x", "torch_threads": 1},
        reference={"segmenter_on_real": {"miou": 0.5, "per_class": [0.5] * 8,
                                         "pixel_accuracy": 0.9},
                   "warping_error_sim_input": 0.001, "warping_error_real_rendering": 0.003,
                   "kid_real_other_scenes": 0.5, "fid_real_other_scenes": 1.0},
        methods=methods, samples={"input (sim)": frames, "ours": frames},
        sample_labels=rng.integers(0, 8, (2, 4, 16, 16), dtype=np.uint8),
        profiles={"input (sim)": frames[0], "ours": frames[0]})


def test_targets_met_and_missed() -> None:
    t = {x["target"]: x for x in check_targets(_result().metrics(), "ours", "cyclegan")}
    assert t["warping error"]["met"] and t["warping error"]["threshold"] == pytest.approx(0.005)
    assert t["KID"]["met"]
    assert t["label-preservation mIoU"]["met"]  # 0.46 >= 0.9 * 0.5
    assert not t["downstream mIoU"]["met"]  # 0.34 < 0.30 + 0.05
    assert t["downstream mIoU"]["threshold"] == pytest.approx(0.35)
    assert not t["no streaks"]["met"] and t["no checkerboard"]["met"]  # 0.4 > 0.25; 1.2 <= 1.6
    with pytest.raises(ValueError, match="not among"):
        check_targets(_result().metrics(), "missing", None)
    only = check_targets(_result().metrics(), "ours", None, raw=None)
    assert [x["target"] for x in only] == ["label-preservation mIoU", "no streaks",
                                           "no checkerboard"]


def test_write_report_atomic_and_overwrite(tmp_path) -> None:
    res = _result()
    out = write_report(res, tmp_path / "r", check_targets(res.metrics(), "ours", "cyclegan"))
    assert {p.name for p in out.iterdir()} >= {"metrics.json", "report.md", "report.html",
                                              *FIGURES}
    assert out.stat().st_mode & 0o755 == 0o755
    m = json.loads((out / "metrics.json").read_text())
    assert m["methods"]["ours"]["kid"] == 1.5 and len(m["targets"]) == 6
    with pytest.raises(FileExistsError, match="exists"):
        write_report(res, out)
    (out / "stale.txt").write_text("old")
    write_report(res, out, overwrite=True)
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no temporary directories left
    header, rows = metrics_table(m)
    assert header[0] == "method" and [r[0] for r in rows] == list(res.methods)
    assert "-" not in rows[0][1:]  # every column filled
