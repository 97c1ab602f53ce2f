"""Stereo metrics on constructed cases (a perfect disparity warp gives ~0, a shifted view a
large error; SGBM recovers a known disparity), the evaluation rows and the CLI report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.eval.stereo_match import (
    SgbmConfig,
    disparity_error,
    lr_warping_error,
    sgbm_disparity,
)


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture (blurred noise) that block matching can lock on."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (3, 3), 0)


def shifted_pair(d: int, h: int = 64, w: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Left and right views of a fronto-parallel plane at disparity ``d``:
    right(x) = left(x + d), i.e. x_right = x_left - d."""
    scene = textured(h, w + d)
    return scene[:, :w].copy(), scene[:, d:w + d].copy()


def test_lr_warping_error_is_zero_for_a_perfect_disparity_warp() -> None:
    left, right = shifted_pair(5)
    d = np.full(left.shape[:2], 5.0, np.float32)
    valid = np.ones(left.shape[:2], bool)
    score = lr_warping_error(left[None], right[None], d[None], valid[None])
    assert score.mean == pytest.approx(0.0, abs=1e-10)


def test_lr_warping_error_is_large_for_a_wrong_disparity_or_another_view() -> None:
    left, right = shifted_pair(5)
    valid = np.ones((1, *left.shape[:2]), bool)
    good = np.full((1, *left.shape[:2]), 5.0, np.float32)
    wrong = lr_warping_error(left[None], right[None], good - 3, valid).mean
    other = lr_warping_error(left[None], textured(*left.shape[:2], seed=9)[None], good,
                             valid).mean
    assert wrong > 0.03 and other > 0.03  # vs 0 for the right disparity
    masked = np.zeros_like(valid)
    with pytest.raises(ValueError, match="every pixel is masked out"):
        lr_warping_error(left[None], right[None], good, masked)
    with pytest.raises(ValueError, match=r"expected left and right \(T,H,W,3\) of one shape"):
        lr_warping_error(left[None], right[None, :, :10], good, valid)


def test_sgbm_recovers_a_known_disparity() -> None:
    left, right = shifted_pair(7, w=128)
    est, ok = sgbm_disparity(left, right, SgbmConfig())
    truth = np.full(left.shape[:2], 7.0, np.float32)
    score = disparity_error(est, ok, truth, np.ones_like(ok))
    assert score.density > 0.9 and score.epe < 0.3 and score.bad3 < 0.1
    wrong = disparity_error(est, ok, truth + 5, np.ones_like(ok))
    assert wrong.bad3 > 0.9 and wrong.epe > 4


def test_disparity_error_counts_missing_estimates_as_bad() -> None:
    truth = np.zeros((2, 2), np.float32)
    est = np.array([[0.0, 1.0], [10.0, 0.0]], np.float32)
    ok = np.array([[True, True], [True, False]])
    s = disparity_error(est, ok, truth, np.ones((2, 2), bool))
    assert (s.epe, s.bad3, s.density) == (pytest.approx(11 / 3), 0.5, 0.75)
    with pytest.raises(ValueError, match="no valid ground-truth pixel"):
        disparity_error(est, ok, truth, np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="num_disparities must be a positive multiple of 16"):
        SgbmConfig(num_disparities=20)


def test_evaluate_stereo_rows_targets_and_report(tmp_path: Path) -> None:
    from sim2real_gan.cli.main import main
    from test_translate_bag import make_tiny_artifact

    model = make_tiny_artifact(tmp_path / "m")
    out = tmp_path / "report"
    assert main(["evaluate", "--stereo", "--model", f"tiny={model}", "--size", "64",
                 "--frames", "2", "--test-sequences", "2", "--out", str(out), "--threads", "1",
                 "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    rows = metrics["rows"]
    assert list(rows) == ["sim pair (no translation)", "real rendering (reference)",
                          "tiny (stereo pair)", "tiny (stereo pair, right from left)",
                          "tiny (per view)"]
    for r in rows.values():
        assert r["lr_warping_error"] >= 0 and 0 <= r["sgbm_bad3"] <= 1
        assert r["sgbm_epe_interior"] >= 0
    # one style per pair keeps both eyes closer than two styles
    assert rows["tiny (stereo pair)"]["lr_warping_error"] < rows["tiny (per view)"][
        "lr_warping_error"]
    # the right eye rebuilt from the left with depth: both eyes agree where both see
    reproj = rows["tiny (stereo pair, right from left)"]
    assert reproj["lr_warping_error"] < 0.5 * rows["tiny (stereo pair)"]["lr_warping_error"]
    assert {t["row"] for t in metrics["targets"]} == {"tiny (stereo pair, right from left)"}
    assert [t["target"] for t in metrics["targets"]] == [
        "left-right warping error", "SGBM end-point error", "SGBM EPE vs tiny (per view)"]
    assert (out / "stereo.png").stat().st_size > 0
    assert "| tiny (stereo pair) |" in (out / "report.md").read_text()


def test_stereo_targets_compare_with_own_per_view_and_unstyled_baselines() -> None:
    from sim2real_gan.eval.stereo import SIM_ROW, check_all_targets

    def row(warp: float, epe: float) -> dict:
        return {"lr_warping_error": warp, "sgbm_epe": epe}

    rows = {SIM_ROW: row(1.0, 1.0), "a (stereo pair)": row(1.4, 1.1), "a (per view)": row(3, 2),
            "b (stereo pair)": row(9, 0.5), "b (per view)": row(9, 0.9),
            "cyclegan (per view)": row(5, 1.05)}
    got = {(t["row"], t["target"]): t["met"] for t in check_all_targets(rows, ["a"])}
    assert got == {("a (stereo pair)", "left-right warping error"): True,
                   ("a (stereo pair)", "SGBM end-point error"): True,
                   ("a (stereo pair)", "SGBM EPE vs a (per view)"): True,
                   ("a (stereo pair)", "SGBM EPE vs cyclegan (per view)"): False}
    # with a right-from-left row (serving with depth), that row is judged
    rows["a (stereo pair, right from left)"] = row(0.5, 1.02)
    got = {(t["row"], t["target"]): t["met"] for t in check_all_targets(rows, ["a"])}
    assert got == {("a (stereo pair, right from left)", "left-right warping error"): True,
                   ("a (stereo pair, right from left)", "SGBM end-point error"): True,
                   ("a (stereo pair, right from left)", "SGBM EPE vs a (per view)"): True,
                   ("a (stereo pair, right from left)", "SGBM EPE vs cyclegan (per view)"): True}
