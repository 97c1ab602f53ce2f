"""Shared shading pieces and the ``sim`` appearance.

``sim``: uniform class colours with Lambert shading, the look of a game-engine render.
The ``real`` appearance (footage stand-in) is in ``real_shader.py``. Both use :class:`View`
(per-pixel view rays of one camera) and :func:`light_terms` (cosines and squared distance to
the light on the scope tip, which a stereo eye sees off its own optical centre).
"""

from __future__ import annotations

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.geometry import Geometry

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


class View:
    """Per-pixel ray coordinates of one camera: x (1,W), y (H,1) (a hit at depth z is at
    z * (x, y, 1)), unit vectors towards the camera (3 planes (H,W)) and ray length factors
    (H,W) (distance to the camera = depth * ray_norm).

    Args:
        config: image size; K: (3,3) intrinsics (default ``config.K``; a stereo eye's own).
    """

    def __init__(self, config: C.SimConfig, K: np.ndarray | None = None):  # noqa: N803
        K = config.K if K is None else np.asarray(K, np.float64)  # noqa: N806
        x = ((np.arange(config.width) - K[0, 2]) / K[0, 0])[None, :]
        y = ((np.arange(config.height) - K[1, 2]) / K[1, 1])[:, None]
        norm = np.sqrt(x * x + y * y + 1.0)
        self.x, self.y = x.astype(f32), y.astype(f32)
        self.ray_norm = norm.astype(f32)
        self.v = [(-x / norm).astype(f32), (-y / norm).astype(f32), (-1.0 / norm).astype(f32)]

    def cos(self, n: np.ndarray | list) -> np.ndarray:
        """(H,W) clipped cosine between normals (3,H,W) and the direction to the camera."""
        d = n[0] * self.v[0]
        d += n[1] * self.v[1]
        d += n[2] * self.v[2]
        return np.clip(d, 0, 1, out=d)


def light_terms(view: View, n: list | np.ndarray, depth: np.ndarray, light: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shading terms for a point light at ``light`` (3,) in the camera frame (metres).

    Args:
        n: three (H,W) planes of (unit or not) surface normals; depth: (H,W) metres (0 = none).
    Returns:
        n.L (H,W) clipped to [0,1], n.H (H,W) with H the half vector between the directions to
        the light and to the camera (Blinn), both divided by |n|; squared distance to the light
        (H,W). With the light at the optical centre, n.L = n.H = cosine to the view ray.
    """
    inv = n[0] * n[0]
    inv += n[1] * n[1]
    inv += n[2] * n[2]
    inv += f32(1e-12)
    np.sqrt(inv, out=inv)
    np.divide(f32(1.0), inv, out=inv)
    if not np.any(light):
        ndl = view.cos(n)
        ndl *= inv
        dist = depth * view.ray_norm
        return ndl, ndl, np.square(dist, out=dist)
    lx = f32(light[0]) - depth * view.x
    ly = f32(light[1]) - depth * view.y
    lz = f32(light[2]) - depth
    d2 = lx * lx
    d2 += ly * ly
    d2 += lz * lz
    il = np.sqrt(d2)
    np.divide(f32(1.0), il, out=il, where=il > 0)
    planes = [lx, ly, lz]
    for p in planes:
        p *= il  # unit direction to the light
    ndl = n[0] * lx
    ndl += n[1] * ly
    ndl += n[2] * lz
    hx, hy, hz = (p + v for p, v in zip(planes, view.v, strict=True))
    ih = hx * hx
    ih += hy * hy
    ih += hz * hz
    np.sqrt(ih, out=ih)
    np.divide(f32(1.0), ih, out=ih, where=ih > 0)
    ndh = n[0] * hx
    ndh += n[1] * hy
    ndh += n[2] * hz
    ndh *= ih
    for t in (ndl, ndh):
        t *= inv
        np.clip(t, 0, 1, out=t)
    return ndl, ndh, d2


class SimShader:
    """Flat class colours x Lambert. ``lighting="world"`` uses a fixed world light (no
    fall-off), so a surface point's colour does not change when the camera moves.

    Args:
        K: (3,3) intrinsics of this camera (default ``config.K``).
        light: (3,) light position in this camera's frame (metres); the scope-tip light is at
            the optical centre for a mono scope and between the eyes for a stereo one.
    """

    def __init__(self, config: C.SimConfig, K: np.ndarray | None = None,  # noqa: N803
                 light: np.ndarray | None = None):
        self.config = config
        self.view = View(config, K)
        self.light = np.zeros(3) if light is None else np.asarray(light, np.float64)
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
        elif not np.any(self.light):
            dist = geom.depth * self.view.ray_norm
            with np.errstate(divide="ignore"):
                fall = np.minimum(np.square(f32(0.085) / dist), f32(1.25))
            shade = self.view.cos(n) * fall * f32(0.88) + f32(0.12)
        else:
            ndl, _, d2 = light_terms(self.view, n, geom.depth, self.light)
            with np.errstate(divide="ignore"):
                fall = np.minimum(f32(0.085 ** 2) / d2, f32(1.25))
            shade = ndl * fall * f32(0.88) + f32(0.12)
        shade_u8 = cv2.convertScaleAbs(shade, alpha=255.0)
        colors = cv2.LUT(cv2.merge([geom.labels] * 3), self.lut)
        return cv2.multiply(colors, cv2.merge([shade_u8] * 3), scale=1.0 / 255.0)
