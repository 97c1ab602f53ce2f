"""Pictures of non-colour image data for a person: labels, depth, flow, disparity, masks.

Every function returns uint8 (H,W,3) RGB. numpy + OpenCV only.

- labels: ids below the simulator's class count use its palette (``sim.config.LABEL_COLORS``,
  the colours of every preview and report), any other id a fixed colour derived from the id
  (the same id always gets the same colour, in every file and every run);
- depth and other scalars: the inferno colour map over the finite values' 2nd..98th
  percentile (near = bright for depth); non-finite or non-positive depth is black;
- flow: the usual colour wheel (hue = direction, saturation = length relative to the
  largest finite vector of the image); invalid pixels black when a mask is given.
"""

from __future__ import annotations

import cv2
import numpy as np

from sim2real_gan.sim.config import LABEL_COLORS

__all__ = ["label_colors", "id_color", "depth_colors", "scalar_colors", "flow_colors",
           "mask_colors"]


def id_color(i: int) -> tuple[int, int, int]:
    """The RGB colour of class id ``i`` (see module docstring)."""
    if 0 <= i < len(LABEL_COLORS):
        return tuple(int(c) for c in LABEL_COLORS[i])  # type: ignore[return-value]
    h = (i * 2654435761) & 0xFFFFFFFF                  # Knuth's multiplicative hash
    return (64 + (h & 0xBF), 64 + ((h >> 8) & 0xBF), 64 + ((h >> 16) & 0xBF))


def label_colors(ids: np.ndarray) -> np.ndarray:
    """(H,W) integer class ids -> (H,W,3) RGB."""
    arr = np.asarray(ids)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"label_colors: expected (H,W) integer ids, got {arr.dtype} {arr.shape}")
    uniq, inv = np.unique(arr, return_inverse=True)
    lut = np.array([id_color(int(i)) for i in uniq], np.uint8)
    return lut[inv.reshape(arr.shape)]


def scalar_colors(values: np.ndarray, valid: np.ndarray | None = None,
                  near_bright: bool = False) -> np.ndarray:
    """(H,W) float -> (H,W,3) inferno over the valid values' 2..98th percentile; invalid
    (non-finite, or outside ``valid``) black. ``near_bright``: small values bright."""
    v = np.asarray(values, np.float64)
    if v.ndim != 2:
        raise ValueError(f"scalar_colors: expected (H,W) values, got shape {v.shape}")
    ok = np.isfinite(v) if valid is None else (np.isfinite(v) & valid)
    out = np.zeros((*v.shape, 3), np.uint8)
    if not ok.any():
        return out
    lo, hi = np.percentile(v[ok], [2, 98])
    t = np.clip((v - lo) / max(hi - lo, 1e-12), 0, 1)
    t = 1 - t if near_bright else t
    rgb = cv2.applyColorMap(np.where(ok, t * 255, 0).astype(np.uint8),
                            cv2.COLORMAP_INFERNO)[..., ::-1]
    out[ok] = rgb[ok]
    return out


def depth_colors(depth: np.ndarray) -> np.ndarray:
    """(H,W) metres (or millimetres) -> (H,W,3): near bright; 0, negative, inf, NaN black."""
    d = np.asarray(depth, np.float64)
    return scalar_colors(d, np.isfinite(d) & (d > 0), near_bright=True)


def flow_colors(flow: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """(H,W,2) flow (dx, dy) -> (H,W,3) colour wheel; ``valid`` False (or non-finite) black."""
    f = np.asarray(flow, np.float32)
    if f.ndim != 3 or f.shape[2] != 2:
        raise ValueError(f"flow_colors: expected (H,W,2) flow, got shape {f.shape}")
    ok = np.isfinite(f).all(-1) if valid is None else (np.isfinite(f).all(-1) & valid)
    fx, fy = np.where(ok, f[..., 0], 0), np.where(ok, f[..., 1], 0)
    mag, ang = cv2.cartToPolar(fx, fy)
    top = float(mag[ok].max()) if ok.any() else 0.0
    hsv = np.zeros((*f.shape[:2], 3), np.uint8)
    hsv[..., 0] = (ang * 90 / np.pi).astype(np.uint8)           # 0..180 in OpenCV hue units
    hsv[..., 1] = np.clip(255 * mag / max(top, 1e-6), 0, 255).astype(np.uint8)
    hsv[..., 2] = np.where(ok, 255, 0).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def mask_colors(mask: np.ndarray) -> np.ndarray:
    """(H,W) bool or 0/non-zero -> (H,W,3) white where set, black elsewhere."""
    m = np.asarray(mask) > 0
    return np.repeat((m * 255).astype(np.uint8)[:, :, None], 3, axis=2)
