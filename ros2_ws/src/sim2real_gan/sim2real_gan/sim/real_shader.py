"""The ``real`` appearance: a procedural stand-in for laparoscopic footage.

Per pixel: atlas albedo and bump height (textures.py) + physically sized fine detail
(detail.py: fibres, capillaries, fat lobules; low-passed where a pixel covers several texels),
bump-mapped Lambert and wet Blinn highlights for the light on the scope tip (they move with
the scope), light fall-off, haze, optional smoke (smoke.py), then the scope and sensor
(optics.py: field stop, vignetting, colour cast, auto-exposure, blur, optional barrel
distortion, noise, gamma). Look parameters are drawn once per sequence (look.py); only the
noise and the smoke change from frame to frame, and auto-exposure follows the content.
"""

from __future__ import annotations

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim import detail as D
from sim2real_gan.sim.appearance import View, light_terms
from sim2real_gan.sim.geometry import Geometry
from sim2real_gan.sim.look import RealLook
from sim2real_gan.sim.optics import Optics
from sim2real_gan.sim.smoke import Smoke

f32 = np.float32
CAPILLARY = np.array([0.32, 0.025, 0.045], f32)  # linear RGB of fine vessels
# Detail channel weights per class: fine noise, fibres, capillaries, lobules.
DETAIL_WEIGHTS = {
    C.LIVER: (1.0, 0.15, 0.35, 0.0),
    C.FAT: (0.6, 0.1, 0.5, 1.0),
    C.WALL: (1.0, 1.0, 1.0, 0.0),
    C.LIGAMENT: (0.7, 1.6, 0.4, 0.3),
    C.GALLBLADDER: (0.8, 0.4, 1.0, 0.0),
}
# Rows: bump height (m), albedo factor - 1, capillary amount, wetness; columns: channels.
DETAIL_MIX = np.array([[1.2e-4, 8e-5, 5e-5, 6e-4],
                       [0.10, 0.14, 0.0, 0.25],
                       [0.0, 0.0, 0.7, 0.0],
                       [0.3, 0.0, 0.0, 0.4]], f32)
LUT_SCALE = 64.0  # detail weights are stored in a uint8 LUT as weight * 64
SMOKE_LIGHT = 0.35  # linear radiance of fully dense smoke before the scope's gain


class RealShader:
    """Procedural "real footage" rendering of one camera of a sequence.

    Args:
        config: image size, far plane and ``config.real`` switches.
        look: the sequence's parameters; optics: this camera's scope and sensor.
        atlas: (S,S,4) float32 linear albedo RGB and bump height (m) per atlas texel.
        patch_color: (3,) linear albedo painted where the geometry's patch field is > 0.
        detail_scale: (P+1,) detail texels per atlas-UV unit by primitive id + 1 (detail.py).
        K: (3,3) intrinsics; light: (3,) scope light in this camera's frame (m).
        noise_seed: seeds each frame's noise window (with the frame index).
        smoke: the sequence's smoke, or None.
    """

    def __init__(self, config: C.SimConfig, look: RealLook, optics: Optics, atlas: np.ndarray,
                 patch_color: np.ndarray, detail_scale: np.ndarray, K: np.ndarray,  # noqa: N803
                 light: np.ndarray, noise_seed: tuple[int, ...], smoke: Smoke | None):
        self.config, self.look, self.optics, self.opts = config, look, optics, config.real
        self.atlas, self.detail_scale = atlas, detail_scale
        self.add_colors = np.stack([np.ones(3), np.asarray(look.haze_color),
                                    np.asarray(patch_color), CAPILLARY], axis=1).astype(f32)
        self.view = View(config, K)
        self.fx = f32(K[0, 0])
        self.light = np.asarray(light, np.float64)
        self.noise_seed, self.smoke = noise_seed, smoke
        self.texel_per_px = f32(1.0 / (D.TEXEL_M * float(K[0, 0])))
        lut = np.zeros((256, 1, 4), np.float64)
        for c, wts in DETAIL_WEIGHTS.items():
            on = (self.opts.tissue_detail,) * 3 + (self.opts.fat_lobules,)
            lut[c, 0] = [w * LUT_SCALE if flag else 0.0 for w, flag in zip(wts, on, strict=True)]
        self.weight_lut = np.round(lut).astype(np.uint8)
        self.with_detail = self.opts.tissue_detail or self.opts.fat_lobules
        self.detail = D.detail_texture(look.variant % D.VARIANTS) if self.with_detail else None

    def _surface(self, geom: Geometry) -> np.ndarray:
        """(H,W,4) atlas albedo RGB and bump height (m) at each pixel."""
        size = f32(self.atlas.shape[0])
        mx = geom.uv[0] * size
        mx -= f32(0.5)
        my = geom.uv[1] * size
        my -= f32(0.5)
        return cv2.remap(self.atlas, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def _detail(self, geom: Geometry, dist: np.ndarray) -> np.ndarray:
        """(H,W,4) float32: bump height (m), albedo factor - 1, capillary amount, wetness
        offset, from the detail texture at its physical scale. Where a pixel covers more than
        a texel the low-passed copy is blended in, and beyond several texels the detail fades
        (no aliasing shimmer on far or grazing surfaces)."""
        sharp, soft = self.detail
        scale = self.detail_scale[geom.pid + 1]
        mx = geom.uv[0] * scale
        my = geom.uv[1] * scale
        period = f32(sharp.shape[0])
        for m in (mx, my):  # wrap into the texture: remap is far slower outside it
            m -= np.floor(m * (f32(1.0) / period)) * period
        a = cv2.remap(sharp, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        b = cv2.remap(soft, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        cos = self.view.cos(geom.normal)
        np.maximum(cos, f32(0.25), out=cos)
        fp = dist * self.texel_per_px
        fp /= cos  # detail texels per pixel
        w = np.clip((fp - f32(1.0)) * f32(0.5), 0, 1)
        b -= a
        a += cv2.multiply(b, cv2.merge([w] * 4))
        fade = fp * f32(0.1)
        np.square(fade, out=fade)
        fade += f32(1.0)
        np.divide(f32(1.0 / LUT_SCALE), fade, out=fade)
        weights = cv2.LUT(cv2.merge([geom.labels] * 4), self.weight_lut)
        a = cv2.multiply(a, cv2.merge([fade] * 4))
        a = cv2.multiply(a, weights, dtype=cv2.CV_32F)
        return cv2.transform(a, DETAIL_MIX)

    def _specular(self, ndh: np.ndarray, labels: np.ndarray, wet: np.ndarray | float
                  ) -> np.ndarray:
        """Wet-tissue lobes (a broad sheen, a sharp lobe, pin-point glints) and a metal lobe
        on instruments, by repeated squaring of n.H (no pow())."""
        look = self.look
        p8 = ndh * ndh
        p8 *= p8
        p8 *= p8
        p16 = p8 * p8
        p64 = p16 * p16
        p64 *= p64
        p256 = p64 * p64
        p256 *= p256
        lobe = p8 * f32(0.04)
        lobe += p64 * f32(look.ks * (1 - look.sharpness) * 0.6)
        lobe += p256 * f32(look.ks * (0.4 + look.sharpness))
        lobe *= wet
        metal = labels >= C.SHAFT
        lobe[metal] = p16[metal] * f32(1.4) + p256[metal] * f32(2.5)
        return lobe

    def _shading(self, geom: Geometry, height: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bump-mapped n.L and n.H (H,W) and the light fall-off (H,W)."""
        hit = geom.pid >= 0
        scale = np.zeros_like(geom.depth)
        np.divide(self.fx, geom.depth, out=scale, where=hit)
        gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, scale=0.125)
        gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, scale=0.125)
        n0 = geom.normal[0] - np.clip(gx * scale, -0.8, 0.8, out=gx)
        n1 = geom.normal[1] - np.clip(gy * scale, -0.8, 0.8, out=gy)
        ndl, ndh, d2 = light_terms(self.view, [n0, n1, geom.normal[2]], geom.depth, self.light)
        fall = np.zeros_like(d2)
        np.divide(f32(self.look.fall_ref ** 2), d2, out=fall, where=hit)
        np.minimum(fall, f32(3.0), out=fall)
        far = f32(self.config.far_m)
        fade = (far - geom.depth) * (f32(1.0) / (f32(0.35) * far))
        fall *= np.clip(fade, 0, 1, out=fade)
        return ndl, ndh, fall

    def radiance(self, geom: Geometry, index: int) -> np.ndarray:
        """(H,W,3) float32 linear radiance reaching the scope (before optics and gain).

        Written as albedo x one scalar plane + a 3x4 colour transform of four scalar planes
        (specular, haze, fat patch, capillaries): per-pixel colour work stays in OpenCV."""
        look = self.look
        r, g, b, height = cv2.split(self._surface(geom))
        dist = geom.depth * self.view.ray_norm
        wet: np.ndarray | float = f32(look.wet)
        factor: np.ndarray | float = f32(1.0)
        cap = None
        if self.with_detail:
            mods = cv2.split(self._detail(geom, dist))
            height += mods[0]
            factor = np.maximum(mods[1] + f32(1.0), f32(0.2))
            cap = mods[2]
            wet = np.maximum(mods[3] + f32(look.wet), f32(0.0))
        ndl, ndh, fall = self._shading(geom, height)
        fog = dist / (dist + f32(0.15))
        fog *= f32(look.haze)
        keep = f32(1.0) - fog
        if self.opts.specular:
            spec = self._specular(ndh, geom.labels, wet)
            spec *= fall
            spec *= keep
        else:
            spec = np.zeros_like(fall)
        diffuse = ndl * fall
        diffuse *= f32(0.96)
        diffuse += f32(0.04)
        diffuse *= keep
        diffuse *= factor
        haze = np.minimum(fall, f32(1.0))
        haze *= fog
        haze += f32(0.3 * look.haze)
        if geom.patch.max() > -0.125:  # class patches (fat) painted with their own colour
            patch = np.clip(geom.patch * f32(4.0) + f32(0.5), 0, 1)
            patch_amt = diffuse * patch
            diffuse -= patch_amt
        else:
            patch_amt = np.zeros_like(diffuse)
        if cap is None:
            cap = np.zeros_like(diffuse)
        else:  # capillaries replace part of the tissue colour (fat patch included)
            cap_amt = cap * patch_amt
            patch_amt -= cap_amt
            cap *= diffuse
            diffuse -= cap
            cap += cap_amt
        planes = [spec, haze, patch_amt, cap]
        rad = cv2.multiply(cv2.merge([r, g, b]), cv2.merge([diffuse] * 3))
        rad += cv2.transform(cv2.merge(planes), self.add_colors)
        if self.smoke is not None:
            dens = self.smoke.density(index / self.config.fps)
            if dens is not None:
                rad *= (f32(1.0) - dens)[..., None]
                rad += (dens * f32(SMOKE_LIGHT))[..., None] * self.smoke.color
        return rad

    def __call__(self, geom: Geometry, index: int) -> np.ndarray:
        """uint8 (H,W,3) real rendering of frame ``index``."""
        rad = self.radiance(geom, index)
        rad *= self.optics.gain
        gain = self.optics.exposure(rad)
        rad *= f32(gain)
        knee = rad * rad  # sensor saturation with a soft knee: x / (1 + x^4)^(1/4)
        np.square(knee, out=knee)
        knee += f32(1.0)
        np.sqrt(knee, out=knee)
        np.sqrt(knee, out=knee)
        np.divide(rad, knee, out=rad)
        img = np.sqrt(rad, out=rad)  # sqrt space (about display); the gamma LUT finishes
        rng = np.random.default_rng([*self.noise_seed, int(index), 0x7E])
        return self.optics.finish(img, gain, rng)
