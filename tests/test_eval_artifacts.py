"""Streak and checkerboard metrics (sim2real_gan.eval.artifacts) on constructed images, and on
the shipped model: its translations of held-out scenes at the serving size must be no
streakier and no more checkered than the real rendering of the same scenes (within margins
the raw sim input itself stays inside)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.eval.artifacts import (
    MAX_CHECKER_RATIO,
    MAX_STREAK_EXCESS,
    artifact_scores,
    checker_share,
    streak_index,
)

DEFAULT = Path(__file__).resolve().parents[1] / "models" / "default"


def _noise(seed: int, n: int = 6, size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(60, 200, (n, size, size, 3)).astype(np.uint8)


def _streaky(seed: int) -> np.ndarray:
    """Noise smeared along x: horizontal streaks."""
    import cv2

    img = _noise(seed).astype(np.float32)
    return np.stack([cv2.blur(f, (15, 1)) for f in img]).clip(0, 255).astype(np.uint8)


def test_streak_index_sees_direction() -> None:
    assert streak_index(_noise(0)) == pytest.approx(1.0, abs=0.15)
    assert streak_index(_streaky(0)) > 3.0
    assert streak_index(np.swapaxes(_streaky(0), 1, 2).copy()) < 1 / 3.0


def test_checker_share_sees_period_two() -> None:
    base = _noise(1).astype(np.float32)
    y, x = np.mgrid[0:96, 0:96]
    checker = base + 12.0 * ((x + y) % 2 * 2 - 1)[None, ..., None]
    assert checker_share(_noise(1)) < 2.0
    assert checker_share(checker.clip(0, 255).astype(np.uint8)) > 5.0


def test_masks_restrict_the_region_and_bad_masks_are_named() -> None:
    img = _noise(2)
    img[:, :, :20] = _streaky(3)[:, :, :20]
    mask = np.zeros((96, 96), bool)
    mask[:, 24:] = True
    assert streak_index(img, mask) == pytest.approx(streak_index(_noise(2)[:, :, 24:]), rel=0.35)
    with pytest.raises(ValueError, match="expected the frame size"):
        streak_index(img, np.ones((32, 32), bool))
    s = artifact_scores(_streaky(4), _noise(5))
    assert s["streak_excess"] > 1.0 and s["streak_index_target"] == pytest.approx(1.0, abs=0.15)


@pytest.mark.skipif(not (DEFAULT / "model.json").is_file(), reason="no shipped model")
def test_shipped_model_has_no_streaks_or_checkerboard_at_256() -> None:
    from sim2real_gan.eval.data import simulate_sequences
    from sim2real_gan.runtime import Translator

    seqs = simulate_sequences([1_000_001, 1_000_002, 1_000_003], 3, 256, 256, ("sim", "real"))
    tr = Translator.from_artifact(DEFAULT, backend="onnxruntime", device="cpu", style=1)
    sim = seqs.frames("sim")
    out = tr.translate_batch(sim)
    masks = np.repeat(seqs.content_mask, 3, axis=0)
    got = artifact_scores(out, seqs.frames("real"), masks)
    ref = artifact_scores(sim, seqs.frames("real"), masks)
    assert ref["streak_excess"] < MAX_STREAK_EXCESS  # the margin holds for the input itself
    assert got["streak_excess"] <= MAX_STREAK_EXCESS, got
    assert got["checker_ratio"] <= MAX_CHECKER_RATIO, got
