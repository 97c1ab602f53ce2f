"""Intermittent cautery smoke for the ``real`` appearance (``RealLookConfig.smoke``).

Smoke is a thin, slowly drifting veil in front of the scope: a low-frequency periodic density
field sampled at a window that moves with time, scaled by an envelope of puffs (rise in a
fraction of a second, fade over seconds). Puffs are drawn per time bucket from a generator
seeded by (sequence seed, bucket), so the smoke of any frame is known without replaying the
earlier ones (frames stay random-access and deterministic).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from sim2real_gan.sim.textures import fractal_noise

f32 = np.float32
BUCKET_S = 2.0  # one possible puff start per bucket
PUFF_P = 0.3  # probability of a puff starting in a bucket
MAX_PUFF_S = 7.0
FIELD = 128  # texels of the periodic density field


class Smoke:
    """Smoke density over a (H,W) image for a sequence.

    Args:
        seed: sequence seed; width, height: image size; rng: draws the density field, drift
            and colour.
    """

    def __init__(self, seed: int, width: int, height: int, rng: np.random.Generator):
        self.seed, self.size = int(seed), (width, height)
        field = fractal_noise(rng, (FIELD, FIELD), 1.6, low_cut=1.0)
        self.field = np.clip(0.55 + 0.35 * field, 0, 1).astype(f32)
        self.drift = rng.uniform(-1.0, 1.0, 2) * (FIELD * 0.04)  # texels per second
        self.scale = FIELD / (rng.uniform(1.2, 2.0) * max(width, height))  # texels per pixel
        self.color = rng.uniform([0.75, 0.72, 0.7], [0.95, 0.92, 0.9]).astype(f32)

    def _puff(self, bucket: int) -> tuple[float, float, float] | None:
        """(start s, duration s, peak density) of the puff starting in ``bucket``, or None."""
        r = np.random.default_rng([self.seed & 0xFFFFFFFF, self.seed >> 32, bucket & 0xFFFFFFFF,
                                   0x5E0])
        if r.random() >= PUFF_P:
            return None
        return ((bucket + r.random()) * BUCKET_S, float(r.uniform(2.0, MAX_PUFF_S)),
                float(r.uniform(0.25, 0.7)))

    def envelope(self, t: float) -> float:
        """Density scale in [0, 1) at time ``t`` (seconds): the strongest active puff."""
        out = 0.0
        last = int(math.floor(t / BUCKET_S))
        for b in range(last - int(MAX_PUFF_S / BUCKET_S) - 1, last + 1):
            puff = self._puff(b)
            if puff is None:
                continue
            start, dur, peak = puff
            s = (t - start) / dur
            if 0.0 <= s <= 1.0:
                rise = min(1.0, s / 0.08)
                out = max(out, peak * rise * (1.0 - s) ** 1.5)
        return out

    def density(self, t: float) -> np.ndarray | None:
        """(H,W) float32 smoke density in [0,1) at time ``t``, or None when there is none."""
        env = self.envelope(t)
        if env < 0.01:
            return None
        w, h = self.size
        ox, oy = self.drift * t
        m = np.array([[self.scale, 0.0, ox], [0.0, self.scale, oy]], np.float64)
        dens = cv2.warpAffine(self.field, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_WRAP)
        dens *= f32(env)
        return dens
