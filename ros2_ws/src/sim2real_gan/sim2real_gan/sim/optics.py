"""Endoscope optics and sensor of the ``real`` appearance.

A fixed scope: the field stop (circular or octagonal content area, black outside), the
vignetting towards its rim and the colour cast are per-sequence constants, so the surround is
identical in every frame of a sequence. Per frame: auto-exposure (a gain from the content
area's mean brightness), lens blur, optional barrel distortion (image only), sensor noise.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.look import RealLook

f32 = np.float32
NOISE_MARGIN = 32  # the per-frame noise is a random window of a bank this much larger


def field_stop(width: int, height: int, shape: str, radius: float,
               center: tuple[float, float]) -> np.ndarray:
    """(H,W) float32 transmission of the field stop in [0,1] (soft edge about 1 px at
    256 px, scaled with the image); all ones for ``shape="none"``.

    radius: x half the shorter image side; center: offset x the shorter side.
    """
    if shape == "none":
        return np.ones((height, width), f32)
    side = min(width, height)
    r_px = radius * side / 2.0
    x = np.arange(width, dtype=f32) - f32((width - 1) / 2 + center[0] * side)
    y = np.arange(height, dtype=f32)[:, None] - f32((height - 1) / 2 + center[1] * side)
    if shape == "circle":
        dist = np.sqrt(x * x + y * y)
    else:  # regular octagon with flat sides at distance r_px (axis-aligned and diagonal)
        ax, ay = np.abs(x)[None, :], np.abs(y)
        dist = np.maximum(np.maximum(ax, ay), (ax + ay) * f32(1 / math.sqrt(2)))
    edge = max(1.0, side / 256.0)
    return np.clip((r_px - dist) / edge + 0.5, 0, 1).astype(f32)


def _rim_distance(width: int, height: int, look: RealLook, shape: str) -> np.ndarray:
    """(H,W) float32 radius normalised to the field stop (1 = rim; half-diagonal if none)."""
    side = min(width, height)
    cx = (width - 1) / 2 + (look.stop_center[0] * side if shape != "none" else 0.0)
    cy = (height - 1) / 2 + (look.stop_center[1] * side if shape != "none" else 0.0)
    scale = look.stop_radius * side / 2 if shape != "none" else math.hypot(width, height) / 2
    x = (np.arange(width, dtype=f32) - f32(cx)) / f32(scale)
    y = (np.arange(height, dtype=f32)[:, None] - f32(cy)) / f32(scale)
    return np.sqrt(x * x + y * y)


def barrel_maps(K: np.ndarray, width: int, height: int, k1: float  # noqa: N803
                ) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV fixed-point remap maps that resample a pinhole image into the plumb_bob
    image with distortion ``(k1, 0, 0, 0, 0)`` around K's principal point: output pixel q
    shows the pinhole pixel p with ``q = D(p)``, ``x_d = x_u (1 + k1 r_u^2)`` in normalised
    coordinates (the inverse is solved by fixed-point iteration)."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    xd = ((np.arange(width) - cx) / fx)[None, :] * np.ones((height, 1))
    yd = ((np.arange(height) - cy) / fy)[:, None] * np.ones((1, width))
    xu, yu = xd.copy(), yd.copy()
    for _ in range(20):
        s = 1.0 + k1 * (xu * xu + yu * yu)
        xu, yu = xd / s, yd / s
    return cv2.convertMaps((xu * fx + cx).astype(f32), (yu * fy + cy).astype(f32),
                           cv2.CV_16SC2)


class Optics:
    """The scope and sensor of one sequence (one eye of a stereo scope).

    Args:
        config: image size and ``config.real`` switches; look: the sequence's parameters;
        K: (3,3) intrinsics of this camera; noise_rng: draws this camera's noise bank.
    Attributes:
        transmission: (H,W) float32 field stop in [0,1]; content_mask: (H,W) bool read-only,
        ``transmission >= 0.5``; gain: (H,W,3) float32 per-pixel linear gain (vignetting x
        colour cast; the field stop is applied after the lens blur, in :meth:`finish`).
    """

    def __init__(self, config: C.SimConfig, look: RealLook, K: np.ndarray,  # noqa: N803
                 noise_rng: np.random.Generator):
        opts, h, w = config.real, config.height, config.width
        self.config, self.look, self.opts = config, look, opts
        self.transmission = field_stop(w, h, opts.field_stop, look.stop_radius, look.stop_center)
        self.content_mask = self.transmission >= 0.5
        self.content_mask.setflags(write=False)
        mask = np.ones((h, w), f32)
        if opts.vignetting:
            r = _rim_distance(w, h, look, opts.field_stop)
            mask *= np.clip(1.0 - look.vignette * r ** look.vignette_power, 0.02, 1.0)
        self.gain = mask[..., None] * np.asarray(look.gains, f32)
        self._stop = (None if opts.field_stop == "none"
                      else np.repeat(self.transmission[..., None], 3, axis=2))
        small = (max(1, w // 8), max(1, h // 8))
        weights = cv2.resize(self.transmission, small, interpolation=cv2.INTER_AREA)  # AE area
        self._ae_weights = (weights / max(float(weights.sum()), 1e-6)).astype(f32)
        self._ae_small = small
        self._maps = barrel_maps(K, w, h, opts.distortion) if opts.distortion else None
        self.blur = look.blur_sigma * w / 256.0 if opts.lens_blur else 0.0
        bank = noise_rng.standard_normal((h + NOISE_MARGIN, w + NOISE_MARGIN, 3), dtype=f32)
        bank = cv2.GaussianBlur(bank, (0, 0), 0.5)  # demosaicing correlates neighbours
        bank *= f32(look.noise_sigma / 255.0) / max(float(bank.std()), 1e-6)
        self.noise = bank
        g = np.arange(256) / 255.0
        self.gamma_lut = np.clip(np.round(255 * g ** (2.0 / look.gamma)), 0, 255).astype(np.uint8)

    @property
    def distortion(self) -> np.ndarray:
        """(5,) plumb_bob coefficients of the image (zeros without distortion)."""
        return np.array([self.opts.distortion, 0.0, 0.0, 0.0, 0.0])

    def exposure(self, rad: np.ndarray) -> float:
        """Scalar gain for linear radiance ``rad`` (H,W,3) already multiplied by
        :attr:`gain`: auto-exposure towards ``look.ae_target`` (partial, clamped), or the
        sequence's fixed exposure."""
        if not self.opts.auto_exposure:
            return self.look.exposure
        small = cv2.resize(rad, self._ae_small, interpolation=cv2.INTER_AREA)
        lum = cv2.transform(small, np.array([[0.3, 0.59, 0.11]], f32))
        mean = float((lum * self._ae_weights).sum())
        return float(np.clip((self.look.ae_target / max(mean, 1e-4)) ** 0.85, 0.3, 5.0))

    def finish(self, img: np.ndarray, gain: float, rng: np.random.Generator) -> np.ndarray:
        """(H,W,3) float32 in about [0,1] (tone-mapped, sqrt space) -> uint8 (H,W,3): lens
        blur, barrel distortion, sensor noise (a window of the bank chosen by ``rng``,
        stronger at high gain), display gamma. ``img`` may be modified."""
        if self.blur > 0.2:
            img = cv2.GaussianBlur(img, (0, 0), self.blur)
        if self._stop is not None:  # after the blur: the surround stays black
            img *= self._stop
        if self._maps is not None:
            img = cv2.remap(img, *self._maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        if self.opts.sensor_noise:
            h, w = img.shape[:2]
            oy, ox = rng.integers(0, NOISE_MARGIN + 1, 2)
            amp = math.sqrt(max(gain, 0.5) / 1.5) if self.opts.auto_exposure else 1.0
            img = cv2.scaleAdd(self.noise[oy:oy + h, ox:ox + w], amp, img)
            np.maximum(img, 0, out=img)
        return cv2.LUT(cv2.convertScaleAbs(img, alpha=255.0), self.gamma_lut)
