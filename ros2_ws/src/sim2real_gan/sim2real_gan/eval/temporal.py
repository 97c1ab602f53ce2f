"""Temporal consistency metrics: warping error (Lai et al. 2018) and tOF (TecoGAN).

Symbols: the paper's output frame ``O_t`` is ``frames[t]``; the forward flow
``F_{t->t+1}`` is ``flows[t]`` in pixels (dx, dy); the non-occlusion mask ``M_t``
is ``valid[t]``.

Example:
    >>> import numpy as np
    >>> seq = np.zeros((3, 8, 8, 3), np.uint8)
    >>> flow = np.zeros((2, 8, 8, 2), np.float32)
    >>> warping_error(seq, flow, np.ones((2, 8, 8), bool)).mean
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["TemporalScore", "warp_backward", "warping_error", "optical_flow", "tof"]


@dataclass(frozen=True)
class TemporalScore:
    """A sequence score: ``mean`` over frame pairs and the ``per_pair`` values."""

    mean: float
    per_pair: list[float]


def _as_float_frames(frames: np.ndarray, name: str) -> np.ndarray:
    """(T,H,W,3) uint8 -> float32 in [0,1]; float input is taken as already in [0,1]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{name}: expected (T,H,W,3) frames, got shape {frames.shape}")
    if frames.shape[0] < 2:
        raise ValueError(f"{name}: need at least 2 frames for a temporal metric, got {frames.shape[0]}")
    if frames.dtype == np.uint8:
        return frames.astype(np.float32) / 255.0
    if not np.issubdtype(frames.dtype, np.floating):
        raise ValueError(f"{name}: expected uint8 or float frames, got dtype {frames.dtype}")
    return frames.astype(np.float32)


def warp_backward(image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``image`` at ``x + flow(x)`` (bilinear).

    Args:
        image: (N,C,H,W) float, the frame at t+1.
        flow: (N,2,H,W) forward flow t->t+1 in pixels, channel 0 = dx, 1 = dy.

    Returns:
        warped (N,C,H,W), aligned with frame t; inside (N,H,W) bool, True where the
        sample point lies in the image (outside points are not comparable).
    """
    if image.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected image (N,C,H,W) and flow (N,2,H,W), got {tuple(image.shape)} "
                         f"and {tuple(flow.shape)}")
    n, _, h, w = image.shape
    if flow.shape[0] != n or flow.shape[2:] != (h, w):
        raise ValueError(f"flow {tuple(flow.shape)} does not match image {tuple(image.shape)}")
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype), torch.arange(w, dtype=flow.dtype),
                            indexing="ij")
    sx = xs[None] + flow[:, 0]
    sy = ys[None] + flow[:, 1]
    inside = (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)
    grid = torch.stack([2.0 * sx / max(w - 1, 1) - 1.0, 2.0 * sy / max(h - 1, 1) - 1.0], dim=-1)
    warped = F.grid_sample(image, grid.to(image.dtype), mode="bilinear", padding_mode="border",
                           align_corners=True)
    return warped, inside


def _check_flow(flows: np.ndarray, t: int, h: int, w: int) -> np.ndarray:
    flows = np.asarray(flows, dtype=np.float32)
    if flows.ndim != 4 or flows.shape[1:] != (h, w, 2) or flows.shape[0] not in (t - 1, t):
        raise ValueError(f"flows: expected ({t - 1} or {t},{h},{w},2) forward flow in pixels, "
                         f"got {flows.shape}")
    return flows[: t - 1]


def warping_error(frames: np.ndarray, flows: np.ndarray, valid: np.ndarray) -> TemporalScore:
    """Warping error E_warp (Lai et al. 2018) of a sequence.

    E = mean_t  sum_x M_t(x) * ||O_t(x) - O_{t+1}(x + F_t(x))||^2 / sum_x M_t(x),
    with RGB in [0,1] and the squared norm summed over the 3 channels.

    Args:
        frames: (T,H,W,3) uint8 (or float in [0,1]) output sequence.
        flows: (T-1,H,W,2) (or (T,H,W,2); the last is ignored) ground-truth forward flow.
        valid: same leading shape as ``flows`` with (H,W) bool, the non-occlusion mask.
    """
    seq = _as_float_frames(frames, "frames")
    t, h, w, _ = seq.shape
    flow = _check_flow(flows, t, h, w)
    valid = np.asarray(valid)
    if valid.ndim != 3 or valid.shape[1:] != (h, w) or valid.shape[0] < t - 1:
        raise ValueError(f"valid: expected ({t - 1},{h},{w}) mask, got {valid.shape}")
    mask = torch.from_numpy(valid[: t - 1].astype(bool))
    cur = torch.from_numpy(seq[:-1]).permute(0, 3, 1, 2)
    nxt = torch.from_numpy(seq[1:]).permute(0, 3, 1, 2)
    warped, inside = warp_backward(nxt, torch.from_numpy(flow).permute(0, 3, 1, 2))
    m = (mask & inside).float()
    sq = ((cur - warped) ** 2).sum(dim=1)
    denom = m.sum(dim=(1, 2))
    per = (sq * m).sum(dim=(1, 2)) / denom.clamp_min(1.0)
    keep = denom > 0
    if not bool(keep.any()):
        raise ValueError("warping_error: every pixel is masked out (no valid flow)")
    values = [float(v) for v in per[keep]]
    return TemporalScore(mean=float(np.mean(values)), per_pair=values)


def optical_flow(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Dense flow prev->next (H,W,2) pixels with OpenCV DIS (medium preset), on luminance.

    Args:
        prev, nxt: (H,W,3) uint8 RGB frames of the same size.
    """
    import cv2

    if prev.shape != nxt.shape or prev.ndim != 3 or prev.dtype != np.uint8:
        raise ValueError(f"optical_flow: expected two equal (H,W,3) uint8 frames, got "
                         f"{prev.shape}/{prev.dtype} and {nxt.shape}/{nxt.dtype}")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    g0 = cv2.cvtColor(prev, cv2.COLOR_RGB2GRAY)
    g1 = cv2.cvtColor(nxt, cv2.COLOR_RGB2GRAY)
    return dis.calc(g0, g1, None)


def tof(output: np.ndarray, reference: np.ndarray) -> TemporalScore:
    """tOF (TecoGAN): mean L1 distance between the flow of ``output`` and of ``reference``.

    For each pair (t, t+1) the dense flow of both sequences is estimated with OpenCV
    DIS; the score is the per-pixel |du| + |dv| averaged over pixels and pairs (pixels
    of flow difference). Zero when the output moves exactly like the reference.

    Args:
        output: (T,H,W,3) uint8 translated sequence.
        reference: (T,H,W,3) uint8 input (sim) sequence, same shape.
    """
    out = np.asarray(output)
    ref = np.asarray(reference)
    if out.shape != ref.shape or out.ndim != 4 or out.shape[0] < 2 or out.shape[-1] != 3:
        raise ValueError(f"tof: expected two (T>=2,H,W,3) sequences of equal shape, got "
                         f"{out.shape} and {ref.shape}")
    if out.dtype != np.uint8 or ref.dtype != np.uint8:
        raise ValueError(f"tof: expected uint8 frames, got {out.dtype} and {ref.dtype}")
    values = []
    for i in range(out.shape[0] - 1):
        d = optical_flow(out[i], out[i + 1]) - optical_flow(ref[i], ref[i + 1])
        values.append(float(np.abs(d).sum(axis=-1).mean()))
    return TemporalScore(mean=float(np.mean(values)), per_pair=values)
