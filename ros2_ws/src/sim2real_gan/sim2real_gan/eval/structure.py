"""Structure preservation: SSIM on luminance between the sim input and its translation.

A translation is expected to change colour and texture, so the comparison is made
on luminance only (Rec. 601 weights); edges and shapes (organ borders, instruments)
are what SSIM then rewards.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import structural_similarity_index_measure

from sim2real_gan.artifact.pixels import check_frames

__all__ = ["luminance", "ssim"]


def luminance(frames: np.ndarray) -> torch.Tensor:
    """(N,H,W,3) uint8 RGB -> (N,1,H,W) float32 luminance in [0,1]."""
    arr = np.asarray(frames)
    check_frames(arr, "frames", batched=True)
    rgb = torch.from_numpy(arr).float().div_(255.0)
    y = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return y[:, None]


def ssim(a: np.ndarray, b: np.ndarray, batch: int = 64) -> float:
    """Mean SSIM (Gaussian window 11, sigma 1.5) of luminance over frames.

    Args:
        a, b: (N,H,W,3) uint8 frames of equal shape, e.g. sim input and translation.
        batch: frames per SSIM call (bounds memory).

    Returns:
        Mean SSIM in [-1, 1]; 1 for identical frames.
    """
    if np.shape(a) != np.shape(b):
        raise ValueError(f"ssim: frame sets differ in shape: {np.shape(a)} vs {np.shape(b)}")
    ya, yb = luminance(a), luminance(b)
    if min(ya.shape[-2:]) < 11:
        raise ValueError(f"ssim: frames must be at least 11x11, got {tuple(ya.shape[-2:])}")
    total = 0.0
    for i in range(0, ya.shape[0], batch):
        s = structural_similarity_index_measure(ya[i:i + batch], yb[i:i + batch], data_range=1.0,
                                                reduction="none")
        total += float(s.sum())
    return total / ya.shape[0]
