"""Stereo metrics: left-right warping error with ground-truth disparity, OpenCV SGBM disparity
with a left-right consistency check, and disparity error (end-point error, bad-3px share).

Symbols: for a rectified pair, the surface point at left pixel (x, y) is at
(x - d(x, y), y) in the right image (``d`` = left -> right disparity in pixels, the
simulator's ``disparity`` topic). The left-right warping error is the temporal warping error
(Lai et al. 2018) with the right view as the "next frame" and the flow (-d, 0):
``sum_x M(x) ||L(x) - R(x - d(x), y)||^2 / sum_x M(x)``, RGB in [0,1], ``M`` the
disparity validity (visible in both views).

Example:
    >>> import numpy as np
    >>> left = np.random.default_rng(0).integers(0, 255, (1, 16, 32, 3), dtype=np.uint8)
    >>> d = np.full((1, 16, 32), 2, np.float32)
    >>> right = np.roll(left, -2, axis=2)            # x_right = x_left - 2
    >>> round(lr_warping_error(left, right, d, np.ones((1, 16, 32), bool)).mean, 6)
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .temporal import TemporalScore, warp_backward

__all__ = ["SgbmConfig", "DisparityScore", "lr_warping_error", "sgbm_disparity",
           "disparity_error", "warp_right_to_left"]


def _check_pair(left: np.ndarray, right: np.ndarray, disparity: np.ndarray,
                valid: np.ndarray) -> None:
    if left.shape != right.shape or left.ndim != 4 or left.shape[-1] != 3:
        raise ValueError(f"expected left and right (T,H,W,3) of one shape, got {left.shape} "
                         f"and {right.shape}")
    if disparity.shape != left.shape[:3] or valid.shape != left.shape[:3]:
        raise ValueError(f"disparity and valid must be (T,H,W) = {left.shape[:3]}, got "
                         f"{disparity.shape} and {valid.shape}")


def warp_right_to_left(right: torch.Tensor, disparity: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample the right view at (x - d, y): (N,C,H,W), (N,H,W) -> warped (N,C,H,W) aligned
    with the left view, inside (N,H,W) bool. Differentiable in ``right``."""
    flow = torch.stack([-disparity, torch.zeros_like(disparity)], dim=1)
    return warp_backward(right, flow)


def lr_warping_error(left: np.ndarray, right: np.ndarray, disparity: np.ndarray,
                     valid: np.ndarray) -> TemporalScore:
    """Left-right warping error of a stereo sequence (module docstring).

    Args:
        left, right: (T,H,W,3) uint8 (or float in [0,1]) views.
        disparity: (T,H,W) float32 ground-truth disparity left -> right, pixels.
        valid: (T,H,W) bool, left pixels visible in the right view.
    Returns:
        mean over frames and the per-frame values (``per_pair``).
    """
    left, right = np.asarray(left), np.asarray(right)
    disparity, valid = np.asarray(disparity, np.float32), np.asarray(valid, bool)
    _check_pair(left, right, disparity, valid)
    scale = 255.0 if left.dtype == np.uint8 else 1.0
    lt = torch.from_numpy(left.astype(np.float32) / scale).permute(0, 3, 1, 2)
    rt = torch.from_numpy(right.astype(np.float32) / scale).permute(0, 3, 1, 2)
    warped, inside = warp_right_to_left(rt, torch.from_numpy(disparity))
    m = (torch.from_numpy(valid) & inside).float()
    sq = ((lt - warped) ** 2).sum(dim=1)
    denom = m.sum(dim=(1, 2))
    if not bool((denom > 0).any()):
        raise ValueError("lr_warping_error: every pixel is masked out (no valid disparity)")
    per = (sq * m).sum(dim=(1, 2)) / denom.clamp_min(1.0)
    values = [float(v) for v in per[denom > 0]]
    return TemporalScore(mean=float(np.mean(values)), per_pair=values)


@dataclass(frozen=True)
class SgbmConfig:
    """OpenCV StereoSGBM settings (defaults: 256x256 endoscope pairs, disparities 0..31 px).

    ``lr_check_px``: a left disparity is kept only where the right view's own SGBM disparity
    (computed on the mirrored pair) agrees within this many pixels; 0 = no check.
    """

    num_disparities: int = 32
    min_disparity: int = 0
    block_size: int = 5
    uniqueness: int = 10
    speckle_window: int = 50
    speckle_range: int = 2
    lr_check_px: float = 1.0

    def __post_init__(self) -> None:
        if self.num_disparities < 16 or self.num_disparities % 16:
            raise ValueError(f"num_disparities must be a positive multiple of 16, got "
                             f"{self.num_disparities}")
        if self.block_size < 1 or self.block_size % 2 == 0:
            raise ValueError(f"block_size must be odd and >= 1, got {self.block_size}")

    def matcher(self) -> cv2.StereoSGBM:
        b = self.block_size
        return cv2.StereoSGBM_create(
            minDisparity=self.min_disparity, numDisparities=self.num_disparities, blockSize=b,
            P1=8 * 3 * b * b, P2=32 * 3 * b * b, disp12MaxDiff=-1,
            uniquenessRatio=self.uniqueness, speckleWindowSize=self.speckle_window,
            speckleRange=self.speckle_range, mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY)


def _sgbm(matcher: cv2.StereoSGBM, left: np.ndarray, right: np.ndarray,
          cfg: SgbmConfig) -> tuple[np.ndarray, np.ndarray]:
    """SGBM on a pair padded on the left by the disparity range (edge pixels repeated): SGBM
    leaves the first ``min + num`` columns without an estimate, which would otherwise drop a
    band of the image that the ground truth covers."""
    pad = cfg.min_disparity + cfg.num_disparities
    lp, rp = (cv2.copyMakeBorder(x, 0, 0, pad, 0, cv2.BORDER_REPLICATE) for x in (left, right))
    raw = matcher.compute(lp, rp)[:, pad:].astype(np.float32) / 16.0
    return raw, raw >= cfg.min_disparity


def sgbm_disparity(left: np.ndarray, right: np.ndarray, cfg: SgbmConfig | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV SGBM disparity left -> right of one rectified RGB pair.

    Args:
        left, right: (H,W,3) uint8 RGB (no learned weights; OpenCV only).
    Returns:
        disparity float32 (H,W) in pixels, valid bool (H,W): SGBM found a match (uniqueness,
        speckle filter) and, with ``cfg.lr_check_px``, the right view's disparity agrees.
    """
    cfg = cfg or SgbmConfig()
    if left.shape != right.shape or left.ndim != 3 or left.dtype != np.uint8:
        raise ValueError(f"sgbm_disparity: expected two equal (H,W,3) uint8 images, got "
                         f"{left.shape}/{left.dtype} and {right.shape}/{right.dtype}")
    matcher = cfg.matcher()
    d, ok = _sgbm(matcher, left, right, cfg)
    if cfg.lr_check_px > 0:  # right -> left on the mirrored pair, mirrored back
        dr, okr = _sgbm(matcher, np.ascontiguousarray(right[:, ::-1]),
                        np.ascontiguousarray(left[:, ::-1]), cfg)
        dr, okr = dr[:, ::-1], okr[:, ::-1]
        h, w = d.shape
        xr = np.rint(np.arange(w)[None, :] - d).astype(np.intp)
        inside = (xr >= 0) & (xr < w)
        xr = np.clip(xr, 0, w - 1)
        rows = np.arange(h)[:, None]
        agree = np.abs(dr[rows, xr] - d) <= cfg.lr_check_px
        ok &= inside & okr[rows, xr] & agree
    return np.where(ok, d, np.float32(0)), ok


@dataclass(frozen=True)
class DisparityScore:
    """Disparity error against ground truth, over the ground truth's valid pixels.

    epe: mean |d_est - d_gt| (pixels) where the estimate exists; bad3: share of ground-truth
    pixels with no estimate or an error > 3 px; density: share with an estimate.
    """

    epe: float
    bad3: float
    density: float


def disparity_error(estimate: np.ndarray, estimate_valid: np.ndarray, truth: np.ndarray,
                    truth_valid: np.ndarray, bad_px: float = 3.0) -> DisparityScore:
    """Score one or many disparity maps (any matching shapes) against ground truth."""
    estimate, truth = np.asarray(estimate, np.float32), np.asarray(truth, np.float32)
    ev, tv = np.asarray(estimate_valid, bool), np.asarray(truth_valid, bool)
    if not (estimate.shape == truth.shape == ev.shape == tv.shape):
        raise ValueError(f"disparity_error: shapes differ: {estimate.shape}, {ev.shape}, "
                         f"{truth.shape}, {tv.shape}")
    n = int(tv.sum())
    if n == 0:
        raise ValueError("disparity_error: no valid ground-truth pixel")
    both = tv & ev
    err = np.abs(estimate - truth)
    epe = float(err[both].mean()) if both.any() else float("nan")
    bad = int((tv & (~ev | (err > bad_px))).sum())
    return DisparityScore(epe=epe, bad3=bad / n, density=float(both.sum()) / n)
