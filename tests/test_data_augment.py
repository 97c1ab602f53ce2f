"""Augmentation keeps frame pairs and flow consistent: the warped frame still matches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.data.augment import _apply, augment_pair, crop_frame
from training.warp import warp


def _warp_np(img: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = torch.from_numpy(np.ascontiguousarray(img, np.float32)).permute(2, 0, 1)[None]
    f = torch.from_numpy(np.ascontiguousarray(flow, np.float32)).permute(2, 0, 1)[None]
    out, inside = warp(t, f)
    return out[0].permute(1, 2, 0).numpy(), inside[0, 0].numpy() > 0


def _residual(fr_t: dict, fr_t1: dict, flow: np.ndarray | None = None) -> float:
    flow = fr_t["flow"] if flow is None else flow
    w, inside = _warp_np(fr_t1["image"].astype(np.float32), flow)
    m = inside & fr_t["valid"]
    return float(np.abs(w - fr_t["image"])[m].mean())


def _constructed_pair(seed: int = 0, h: int = 40, w: int = 48) -> tuple[dict, dict]:
    """Frame t is the exact flow-warp of a smooth random frame t+1."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((1, 3, 6, 6), dtype=np.float32))
    img1 = torch.nn.functional.interpolate(coarse, (h, w), mode="bicubic", align_corners=True)
    flow = torch.nn.functional.interpolate(torch.from_numpy(
        rng.normal(0, 2, (1, 2, 3, 3)).astype(np.float32)), (h, w), mode="bilinear",
        align_corners=True)
    img0, inside = warp(img1, flow)
    as_np = lambda t: t[0].permute(1, 2, 0).numpy()  # noqa: E731
    fr_t = {"image": as_np(img0) * 255, "flow": as_np(flow), "valid": inside[0, 0].numpy() > 0,
            "uv": rng.random((h, w, 2), dtype=np.float32)}
    fr_t1 = {"image": as_np(img1) * 255, "flow": np.zeros_like(fr_t["flow"]),
             "valid": np.ones((h, w), bool), "uv": fr_t["uv"]}
    return fr_t, fr_t1


@pytest.mark.parametrize("hflip,vflip", [(False, False), (True, False), (False, True),
                                         (True, True)])
def test_warp_still_matches_after_crop_and_flip(hflip: bool, vflip: bool) -> None:
    fr_t, fr_t1 = _constructed_pair()
    assert _residual(fr_t, fr_t1) < 1e-3
    a_t, a_t1 = _apply(fr_t, 5, 7, (24, 32), hflip, vflip), _apply(fr_t1, 5, 7, (24, 32),
                                                                   hflip, vflip)
    assert a_t["image"].shape == (24, 32, 3) and a_t["flow"].shape == (24, 32, 2)
    assert _residual(a_t, a_t1) < 1e-3
    if hflip or vflip:  # negative control: flipping without changing the flow's sign fails
        raw = _apply({"flow": fr_t["flow"]}, 5, 7, (24, 32), False, False)["flow"]
        raw = raw[:, ::-1] if hflip else raw
        raw = raw[::-1] if vflip else raw
        assert _residual(a_t, a_t1, raw) > 20 * max(_residual(a_t, a_t1), 1e-4)


def test_simulator_pair_still_matches_after_augmentation() -> None:
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    sim = EndoscopeSimulator(SimConfig(width=96, height=96, lighting="world", fps=10), seed=5)
    f0, f1 = list(sim.frames(2))
    fr_t = {"image": f0.image().astype(np.float32), "flow": f0.flow, "valid": f0.flow_valid}
    fr_t1 = {"image": f1.image().astype(np.float32), "flow": f1.flow, "valid": f1.flow_valid}
    base = _residual(fr_t, fr_t1)
    still = np.abs(fr_t1["image"] - fr_t["image"]).mean()
    assert base < 0.5 * still  # the flow explains the motion
    for seed in range(4):
        a_t, a_t1 = augment_pair(fr_t, fr_t1, np.random.default_rng(seed), (64, 64), True, True)
        assert _residual(a_t, a_t1) < 0.5 * still


def test_same_window_for_both_frames_and_errors() -> None:
    fr_t, fr_t1 = _constructed_pair()
    a, b = augment_pair(fr_t, fr_t1, np.random.default_rng(1), (16, 16))
    assert np.array_equal(a["uv"], b["uv"])  # same surface points -> same window and flips
    c, _ = augment_pair(fr_t, fr_t1, np.random.default_rng(1), (16, 16))
    assert np.array_equal(a["image"], c["image"])  # deterministic for one seed
    with pytest.raises(ValueError, match="larger than the frame"):
        augment_pair(fr_t, fr_t1, np.random.default_rng(0), (64, 64))
    with pytest.raises(ValueError, match="sizes differ"):
        augment_pair(fr_t, {"image": fr_t1["image"][:20]}, np.random.default_rng(0), (8, 8))
    assert crop_frame(fr_t, np.random.default_rng(0), (8, 12))["image"].shape == (8, 12, 3)
