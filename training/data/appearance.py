"""Appearance jitter of real frames: the camera, light and tissue variation a style encoder
must follow (issue: a reference frame from another scope or hospital sets the look).

One random draw per frame, all with the same ``strength`` (0 = off, 1 = the ranges below):
brightness gain x e^U(-0.35, 0.35), contrast about the content mean x e^U(-0.3, 0.3), display
gamma x e^U(-0.25, 0.25), white balance (per-channel gains x e^U(-0.15, 0.15)), saturation
x e^U(-0.4, 0.4), hue rotation U(-12, 12) degrees, specular gain (the part of the luminance
above 0.75 x e^U(-0.6, 0.6)). The black surround of footage stays black: pixels darker than
the footage black level are left as they are.
"""

from __future__ import annotations

import math

import numpy as np

BLACK = 20.0 / 255.0
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def hue_matrix(degrees: float) -> np.ndarray:
    """3x3 RGB matrix rotating hue by ``degrees`` about the grey axis (greys stay grey)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    # rotation about the (1,1,1)/sqrt(3) axis (Rodrigues)
    k = 1.0 / 3.0
    r = np.array([[c + (1 - c) * k, (1 - c) * k - s * math.sqrt(k), (1 - c) * k + s * math.sqrt(k)],
                  [(1 - c) * k + s * math.sqrt(k), c + (1 - c) * k, (1 - c) * k - s * math.sqrt(k)],
                  [(1 - c) * k - s * math.sqrt(k), (1 - c) * k + s * math.sqrt(k), c + (1 - c) * k]])
    return r.astype(np.float32)


def jitter_appearance(rgb: np.ndarray, rng: np.random.Generator, strength: float,
                      mask: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H,W,3) RGB -> uint8 (H,W,3) with a random look (see the module doc).

    ``mask`` bool (H,W), True = scene: the contrast pivot is the scene's mean luminance.
    Always draws the same number of random values (determinism of the sample stream).
    """
    u = rng.uniform(-1.0, 1.0, 9) * strength
    if strength <= 0:
        return rgb
    x = rgb.astype(np.float32) / 255.0
    keep = x.max(-1) < BLACK
    x = x * math.exp(0.35 * u[0]) * np.exp(0.15 * u[1:4]).astype(np.float32)
    y = x @ LUMA
    scene = ~keep if mask is None else (mask & ~keep)
    pivot = float(y[scene].mean()) if scene.any() else float(y.mean())
    x = pivot + (x - pivot) * math.exp(0.3 * u[4])
    y = x @ LUMA
    x = y[..., None] + (x - y[..., None]) * math.exp(0.4 * u[5])
    x = x @ hue_matrix(12.0 * u[6]).T
    y = x @ LUMA
    boost = np.clip(y - 0.75, 0.0, None) * (math.exp(0.6 * u[7]) - 1.0)
    x = np.clip(x + boost[..., None], 0.0, 1.0) ** math.exp(0.25 * u[8])
    out = (x * 255.0 + 0.5).astype(np.uint8)
    out[keep] = rgb[keep]
    return out
