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


def _undistort_grid(K_d: np.ndarray, K: np.ndarray, width: int, height: int,  # noqa: N803
                    k1: float) -> tuple[np.ndarray, np.ndarray]:
    """Pinhole (K) pixel seen by every pixel of the distorted image (K_d, k1): (H,W) x and y,
    NaN where the model folds back (1 + 3 k1 r^2 <= 0) or the inversion does not converge."""
    fx, fy, cx, cy = K_d[0, 0], K_d[1, 1], K_d[0, 2], K_d[1, 2]
    xd = ((np.arange(width) - cx) / fx)[None, :] * np.ones((height, 1))
    yd = ((np.arange(height) - cy) / fy)[:, None] * np.ones((1, width))
    xu, yu = xd.copy(), yd.copy()
    for _ in range(30):
        s = np.maximum(1.0 + k1 * (xu * xu + yu * yu), 0.05)
        xu, yu = xd / s, yd / s
    r2 = xu * xu + yu * yu
    s = 1.0 + k1 * r2
    bad = (np.hypot(xu * s - xd, yu * s - yd) * fx > 0.01) | (1.0 + 3.0 * k1 * r2 <= 0)
    px, py = xu * K[0, 0] + K[0, 2], yu * K[1, 1] + K[1, 2]
    px[bad] = py[bad] = np.nan
    return px, py


def barrel_maps(K: np.ndarray, width: int, height: int, k1: float,  # noqa: N803
                content: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Remap maps (OpenCV fixed point) that resample a pinhole image (intrinsics K) into a
    plumb_bob image with distortion ``(k1, 0, 0, 0, 0)`` and intrinsics ``K_d``, and K_d.

    A barrel lens images a wider field than the pinhole of the same focal length, so K_d has
    the smallest focal length (>= K's, same principal point) for which every pixel of the
    ``content`` area (H,W) bool sees a pinhole pixel: the distorted image fills its field
    stop. Output pixel q shows pinhole pixel ``p = K undistort(K_d^-1 q)``, i.e.
    ``cv2.undistort(img, K_d, D, newCameraMatrix=K)`` gives the pinhole image back.
    """
    for step in range(200):
        K_d = K.copy()  # noqa: N806
        K_d[0, 0] *= 1.0 + 0.01 * step
        K_d[1, 1] *= 1.0 + 0.01 * step
        px, py = _undistort_grid(K_d, K, width, height, k1)
        with np.errstate(invalid="ignore"):
            inside = (px >= 0) & (px <= width - 1) & (py >= 0) & (py <= height - 1)
        if inside[content].all():
            break
    mx = np.where(inside, px, -10.0).astype(f32)  # outside the source: black
    my = np.where(inside, py, -10.0).astype(f32)
    return cv2.convertMaps(mx, my, cv2.CV_16SC2), K_d


class Optics:
    """The scope and sensor of one sequence (one eye of a stereo scope).

    Args:
        config: image size and ``config.real`` switches; look: the sequence's parameters;
        K: (3,3) intrinsics of this camera; noise_rng: draws this camera's noise bank.
    Attributes:
        transmission: (H,W) float32 field stop in [0,1]; content_mask: (H,W) bool read-only,
        ``transmission >= 0.5``; gain: (H,W,3) float32 per-pixel linear gain (vignetting x
        colour cast; the field stop is applied after the lens blur, in :meth:`finish`);
        K: (3,3) intrinsics of the finished image (with distortion: barrel_maps' K_d).
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
        self.K = np.asarray(K, np.float64)  # intrinsics of the real image (distorted: K_d)
        self._maps = None
        if opts.distortion:
            self._maps, self.K = barrel_maps(self.K, w, h, opts.distortion,
                                             self.transmission > 0)
        self.blur = look.blur_sigma * w / 256.0 if opts.lens_blur else 0.0
        bank = noise_rng.standard_normal((h + NOISE_MARGIN, w + NOISE_MARGIN, 3), dtype=f32)
        bank = cv2.GaussianBlur(bank, (0, 0), 0.5)  # demosaicing correlates neighbours
        bank *= f32(look.noise_sigma / 255.0) / max(float(bank.std()), 1e-6)
        self.noise = bank
        g = np.arange(256) / 255.0
        self.gamma_lut = np.clip(np.round(255 * g ** (2.0 / look.gamma)), 0, 255).astype(np.uint8)

    @property
    def distortion(self) -> np.ndarray:
        """(5,) plumb_bob coefficients of the image (zeros without distortion); with
        :attr:`K`, the image's camera model."""
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
        blur, barrel distortion, field stop, sensor noise (a window of the bank chosen by ``rng``,
        stronger at high gain), display gamma. ``img`` may be modified."""
        if self.blur > 0.2:
            img = cv2.GaussianBlur(img, (0, 0), self.blur)
        if self._maps is not None:
            img = cv2.remap(img, *self._maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        if self._stop is not None:  # after blur and distortion: the surround stays black
            img *= self._stop
        if self.opts.sensor_noise:
            h, w = img.shape[:2]
            oy, ox = rng.integers(0, NOISE_MARGIN + 1, 2)
            amp = math.sqrt(max(gain, 0.5) / 1.5) if self.opts.auto_exposure else 1.0
            img = cv2.scaleAdd(self.noise[oy:oy + h, ox:ox + w], amp, img)
            np.maximum(img, 0, out=img)
        return cv2.LUT(cv2.convertScaleAbs(img, alpha=255.0), self.gamma_lut)
