"""The two appearances of one ray-cast frame.

``sim``: uniform class colours with Lambert shading, the look of a game-engine render.
``real``: a procedural stand-in for laparoscopic footage: textured albedo from the atlas
(vessels, fat lobules, blood), bump-mapped wet specular glints, light at the endoscope tip
with fall-off, haze, vignetting, lens blur, sensor noise and a colour cast; the look
parameters are drawn once per sequence (:class:`RealLook`), the noise once per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.geometry import Geometry
from sim2real_gan.sim.textures import fractal_noise

# sim appearance: flat class colours (display RGB in [0,1]).
SIM_COLORS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.72, 0.22, 0.2),
        (0.95, 0.85, 0.35),
        (0.88, 0.6, 0.6),
        (0.9, 0.88, 0.8),
        (0.35, 0.7, 0.3),
        (0.45, 0.45, 0.5),
        (0.8, 0.8, 0.85),
    ],
    dtype=np.float32,
)
WORLD_LIGHT = np.array([0.3, -0.2, 1.0]) / np.linalg.norm([0.3, -0.2, 1.0])
f32 = np.float32


class _View:
    """Per-pixel unit vectors towards the camera (3 planes) and ray length factors (H,W)."""

    def __init__(self, config: C.SimConfig):
        K = config.K  # noqa: N806
        x = ((np.arange(config.width) - K[0, 2]) / K[0, 0])[None, :]
        y = ((np.arange(config.height) - K[1, 2]) / K[1, 1])[:, None]
        norm = np.sqrt(x * x + y * y + 1.0)
        self.ray_norm = norm.astype(f32)  # distance to the camera = depth * ray_norm
        self.v = [(-x / norm).astype(f32), (-y / norm).astype(f32), (-1.0 / norm).astype(f32)]

    def cos(self, n: np.ndarray | list) -> np.ndarray:
        """(H,W) clipped cosine between normals (3,H,W) and the direction to the camera."""
        d = n[0] * self.v[0]
        d += n[1] * self.v[1]
        d += n[2] * self.v[2]
        return np.clip(d, 0, 1, out=d)


class SimShader:
    """Flat class colours x Lambert. ``lighting="world"`` uses a fixed world light (no
    fall-off), so a surface point's colour does not change when the camera moves."""

    def __init__(self, config: C.SimConfig):
        self.config = config
        self.view = _View(config)
        lut = np.zeros((256, 1, 3), np.uint8)
        lut[:len(SIM_COLORS), 0] = np.round(SIM_COLORS * 255.0)
        self.lut = lut

    def __call__(self, geom: Geometry, cam_R: np.ndarray) -> np.ndarray:  # noqa: N803
        """uint8 (H,W,3) sim rendering."""
        n = geom.normal
        if self.config.lighting == "world":
            lc = cam_R.T @ WORLD_LIGHT
            d = n[0] * f32(lc[0]) + n[1] * f32(lc[1]) + n[2] * f32(lc[2])
            shade = np.clip(d, 0, 1) * f32(0.7) + f32(0.3)
        else:
            dist = geom.depth * self.view.ray_norm
            with np.errstate(divide="ignore"):
                fall = np.minimum(np.square(f32(0.085) / dist), f32(1.25))
            shade = self.view.cos(n) * fall * f32(0.88) + f32(0.12)
        shade_u8 = cv2.convertScaleAbs(shade, alpha=255.0)
        colors = cv2.LUT(cv2.merge([geom.labels] * 3), self.lut)
        return cv2.multiply(colors, cv2.merge([shade_u8] * 3), scale=1.0 / 255.0)


@dataclass(frozen=True)
class RealLook:
    """Per-sequence camera/lighting/sensor parameters of the real appearance."""

    exposure: float
    fall_ref: float
    ks: float
    sharpness: float  # 0: shininess 64, 1: shininess 128
    haze: float
    haze_color: tuple[float, float, float]
    vignette: float
    aperture: float  # radius of the circular optics mask (x half-diagonal), 0 = none
    blur_sigma: float  # at 256 px width; scaled with image width
    noise_sigma: float
    gains: tuple[float, float, float]
    gamma: float
    detail_repeat: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> RealLook:
        gains = rng.uniform([0.95, 0.82, 0.76], [1.12, 1.0, 0.98])
        return cls(
            exposure=float(rng.uniform(1.6, 2.8)), fall_ref=float(rng.uniform(0.075, 0.1)),
            ks=float(rng.uniform(0.5, 1.2)), sharpness=float(rng.uniform(0, 1)),
            haze=float(rng.uniform(0.0, 0.06)),
            haze_color=tuple(float(v) for v in rng.uniform([0.5, 0.3, 0.3], [0.8, 0.5, 0.5])),
            vignette=float(rng.uniform(0.25, 0.65)),
            aperture=float(rng.uniform(0.92, 1.05)) if rng.random() < 0.35 else 0.0,
            blur_sigma=float(rng.uniform(0.35, 1.1)), noise_sigma=float(rng.uniform(0.4, 2.0)),
            gains=tuple(float(g) for g in gains / gains.max()), gamma=float(rng.uniform(1.9, 2.4)),
            detail_repeat=float(rng.uniform(5.0, 9.0)),
        )


class RealShader:
    """Procedural "real footage" rendering of a frame for one sequence.

    Args:
        atlas: (S,S,4) float32: linear albedo RGB and bump height in metres.
        patch_color: (3,) linear albedo painted where the geometry's patch field is > 0.
        detail_scale: atlas UV -> detail texels (fine, tileable texture on top of the atlas).
        rng: the sequence's generator (detail texture, noise bank); seed: frame noise seed.
    """

    def __init__(self, config: C.SimConfig, look: RealLook, atlas: np.ndarray,
                 patch_color: np.ndarray, detail_scale: float, rng: np.random.Generator,
                 seed: int):
        self.config, self.look, self.seed = config, look, seed
        self.atlas = atlas
        self.add_colors = np.stack([np.ones(3), np.asarray(look.haze_color),
                                    np.asarray(patch_color)], axis=1).astype(f32)
        self.detail = fractal_noise(rng, (256, 256), 0.9, low_cut=4.0)
        self.detail_scale = f32(detail_scale * look.detail_repeat)
        self.view = _View(config)
        self.fx = f32(config.K[0, 0])
        h, w = config.height, config.width
        self.gain_mask = self._optics_mask() * (np.asarray(look.gains, f32) * f32(look.exposure))
        self.noise = rng.standard_normal((h + 32, w + 32, 3), dtype=f32)
        self.noise *= f32(look.noise_sigma / 255.0)
        g = np.arange(256) / 255.0
        self.gamma_lut = np.clip(np.round(255 * g ** (2.0 / look.gamma)), 0, 255).astype(np.uint8)
        self.blur = look.blur_sigma * w / 256.0

    def _optics_mask(self) -> np.ndarray:
        """(H,W,1) vignetting x optional circular aperture."""
        h, w = self.config.height, self.config.width
        yy, xx = np.mgrid[0:h, 0:w].astype(f32)
        r = np.hypot((xx - (w - 1) / 2) / ((w - 1) / 2), (yy - (h - 1) / 2) / ((h - 1) / 2))
        r /= np.sqrt(2.0)
        mask = 1.0 - self.look.vignette * r ** 2.2
        if self.look.aperture:
            edge = 2.0 / min(h, w)
            mask *= np.clip((self.look.aperture - r) / edge, 0, 1)
        return mask[..., None].astype(f32)

    def _surface(self, geom: Geometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Atlas albedo (H,W,3) view, bump height (H,W) metres, detail noise (H,W)."""
        size = f32(self.atlas.shape[0])
        mx = geom.uv[0] * size
        mx -= f32(0.5)
        my = geom.uv[1] * size
        my -= f32(0.5)
        surf = cv2.remap(self.atlas, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mx = geom.uv[0] * self.detail_scale
        my = geom.uv[1] * self.detail_scale
        det = cv2.remap(self.detail, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        height = det * f32(6e-5)
        height += surf[..., 3]
        return surf[..., :3], height, det

    def _shading(self, geom: Geometry, height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bump-mapped cosine to the light (H,W) and light fall-off (H,W)."""
        hit = geom.pid >= 0
        scale = np.zeros_like(geom.depth)
        np.divide(self.fx, geom.depth, out=scale, where=hit)
        gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, scale=0.125)
        gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, scale=0.125)
        n0 = geom.normal[0] - np.clip(gx * scale, -0.8, 0.8, out=gx)
        n1 = geom.normal[1] - np.clip(gy * scale, -0.8, 0.8, out=gy)
        n2 = geom.normal[2]
        inv = n0 * n0
        inv += n1 * n1
        inv += n2 * n2
        inv += f32(1e-12)
        np.sqrt(inv, out=inv)
        ndl = self.view.cos([n0, n1, n2])
        ndl /= inv
        dist = geom.depth * self.view.ray_norm
        fall = np.zeros_like(dist)
        np.divide(f32(self.look.fall_ref), dist, out=fall, where=hit)
        np.multiply(fall, fall, out=fall)
        np.minimum(fall, f32(3.0), out=fall)
        far = f32(self.config.far_m)
        fade = (far - geom.depth) * (f32(1.0) / (f32(0.35) * far))
        fall *= np.clip(fade, 0, 1, out=fade)
        return ndl, fall, dist

    def _specular(self, ndl: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Wet-tissue lobe + sharp glints; broad metal lobe on instruments (no pow())."""
        look = self.look
        p16 = ndl * ndl
        for _ in range(3):
            p16 *= p16
        p64 = p16 * p16
        p64 *= p64
        p128 = p64 * p64
        glint = p128 * p128
        glint *= glint
        lobe = p64 * f32(look.ks * (1 - look.sharpness))
        lobe += p128 * f32(look.ks * look.sharpness)
        lobe += glint * f32(0.25)
        metal = labels >= C.SHAFT
        lobe[metal] = p16[metal] * f32(1.6)
        return lobe

    def __call__(self, geom: Geometry, index: int) -> np.ndarray:
        """uint8 (H,W,3) real rendering of frame ``index``."""
        look = self.look
        alb, height, det = self._surface(geom)
        ndl, fall, dist = self._shading(geom, height)
        fog = dist / (dist + f32(0.15))
        fog *= f32(look.haze)
        keep = f32(1.0) - fog
        wet = np.clip(det * f32(0.5) + f32(0.6), 0.1, 1.0)  # fine-scale wetness variation
        spec = self._specular(ndl, geom.labels)
        spec *= wet
        spec *= fall
        spec *= keep
        diffuse = ndl * fall
        diffuse *= f32(0.96)
        diffuse += f32(0.04)
        diffuse *= det * f32(0.07) + f32(1.0)  # fine albedo texture
        diffuse *= keep
        haze = np.minimum(fall, f32(1.0))
        haze *= fog
        haze += f32(0.3 * look.haze)
        if geom.patch.max() > -0.125:  # class patches (fat) painted with their own colour
            patch = np.clip(geom.patch * f32(4.0) + f32(0.5), 0, 1)
            patch_amt = diffuse * patch
            diffuse -= patch_amt
            patch_amt *= det * f32(0.1) + f32(1.0)
        else:
            patch_amt = np.zeros_like(diffuse)
        # additive colours: specular (white), haze (haze colour), patch (patch colour)
        add = cv2.transform(cv2.merge([spec, haze, patch_amt]), self.add_colors)
        rad = alb * diffuse[..., None]
        rad += add
        rad *= self.gain_mask
        tone = rad + f32(1.0)
        np.divide(rad, tone, out=rad)
        img = np.sqrt(rad, out=rad)  # tone curve, in sqrt (about display) space
        if self.blur > 0.2:
            img = cv2.GaussianBlur(img, (0, 0), self.blur)
        h, w = geom.depth.shape
        oy, ox = np.random.default_rng([self.seed & 0xFFFFFFFF, int(index), 0x7E]).integers(0, 33, 2)
        img += self.noise[oy:oy + h, ox:ox + w]
        np.maximum(img, 0, out=img)
        return cv2.LUT(cv2.convertScaleAbs(img, alpha=255.0), self.gamma_lut)
