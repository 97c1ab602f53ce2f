"""Physically sized fine tissue texture for the ``real`` appearance.

The atlas (textures.py) gives each surface its colour variation and large vessels, but one
atlas texel covers several millimetres of a large organ. What makes laparoscopic footage look
like tissue at 256-1080 px is finer: fibrous strands on the peritoneum, capillaries, fat
lobules. They live in one periodic detail texture with texels of :data:`TEXEL_M` metres on
every surface (the lookup scale of each primitive is derived from its surface area), plus a
low-passed copy for surfaces seen from afar (texels smaller than a pixel would alias and
shimmer from frame to frame).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from sim2real_gan.sim.scene import CYLINDER, PrimitiveSpec
from sim2real_gan.sim.textures import fractal_noise

TEXEL_M = 0.00025  # metres per detail texel on every tissue surface
SIZE = 512  # texels per period (128 mm)
VARIANTS = 4  # distinct textures; a sequence uses one (by seed)
MAX_SCALE = 30000.0  # OpenCV remap keeps coordinates in int16 range
LOW_PASS_SIGMA = 2.0  # texels; the copy used where a pixel covers several texels
f32 = np.float32


def _fold(canvas: np.ndarray, size: int) -> np.ndarray:
    """(2S,2S) drawing -> (S,S) periodic tile (every pixel added at its position mod S)."""
    return canvas.reshape(2, size, 2, size).sum(axis=(0, 2))


def _capillaries(rng: np.random.Generator, size: int) -> np.ndarray:
    """(S,S) float32 in [0,1]: thin branching vessels, periodic (drawn on a 2x canvas and
    folded, walks start in the middle half and stay shorter than S/2)."""
    canvas = np.zeros((2 * size, 2 * size), np.float32)
    for _ in range(size // 5):
        p = rng.uniform(size / 2, 3 * size / 2, 2)
        ang, width, steps = rng.uniform(0, 2 * math.pi), rng.uniform(1.0, 2.0), 0
        pts = [p.copy()]
        while steps < size // 6:
            ang += rng.normal(0, 0.3)
            p = p + 2.0 * np.array([math.cos(ang), math.sin(ang)])
            pts.append(p.copy())
            steps += 1
            if rng.random() < 0.05:  # a branch: finish this segment, turn
                ang += rng.choice([-1, 1]) * rng.uniform(0.4, 1.0)
        poly = np.round(np.array(pts) * 16).astype(np.int32)
        cv2.polylines(canvas, [poly], False, float(rng.uniform(0.5, 1.0)),
                      max(1, int(round(width))), cv2.LINE_AA, shift=4)
    tile = np.minimum(_fold(canvas, size), 1.0)
    return _periodic_blur(tile, 0.6)


def _lobules(rng: np.random.Generator, size: int, cell: int) -> np.ndarray:
    """(S,S) float32 in [0,1]: periodic Worley cells, 1 in a lobule's middle, 0 on the septa
    between neighbouring lobules (F2 - F1 of the nearest two cell points)."""
    g = size // cell
    pts = (np.stack(np.meshgrid(np.arange(g), np.arange(g), indexing="ij"), -1)
           + rng.uniform(0.15, 0.85, (g, g, 2))) * cell  # (g,g,2) as (row, col)
    rr, cc = np.mgrid[0:size, 0:size].astype(np.float32)
    gi, gj = (rr // cell).astype(int), (cc // cell).astype(int)
    d = []
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            ii, jj = gi + di, gj + dj
            p = pts[ii % g, jj % g]
            py = p[..., 0] + (ii // g) * size  # unwrap across the period
            px = p[..., 1] + (jj // g) * size
            d.append(np.hypot(rr - py, cc - px))
    d = np.sort(np.stack(d), axis=0)
    return np.clip((d[1] - d[0]) / (0.45 * cell), 0, 1).astype(np.float32)


def _periodic_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    pad = int(math.ceil(3 * sigma)) + 1
    wrapped = np.pad(img, [(pad, pad), (pad, pad)] + [(0, 0)] * (img.ndim - 2), mode="wrap")
    return cv2.GaussianBlur(wrapped, (0, 0), sigma)[pad:-pad, pad:-pad]


@functools.lru_cache(maxsize=VARIANTS)
def detail_texture(variant: int) -> tuple[np.ndarray, np.ndarray]:
    """(sharp, low-passed): two read-only (S,S,4) float32 periodic textures with channels
    0 fine noise (zero mean, unit std), 1 fibres (anisotropic, zero mean, ~unit std),
    2 capillaries (in [0,1]), 3 lobules (centred: lobule middle about +0.4, septa -0.6).

    Shared by every sequence using ``variant`` (0..VARIANTS-1), built once per process.
    """
    rng = np.random.default_rng([int(variant) % VARIANTS, 0xDE7A11])
    fine = fractal_noise(rng, (SIZE, SIZE), 0.9, low_cut=8.0)
    fibres = np.tanh(1.5 * fractal_noise(rng, (SIZE, SIZE), 1.1, low_cut=6.0, aniso=7.0))
    fibres /= fibres.std() + 1e-6
    caps = _capillaries(rng, SIZE)
    lob = _lobules(rng, SIZE, 14) ** 0.5
    sharp = np.stack([fine, fibres, caps, lob - 0.6], -1).astype(np.float32)
    soft = _periodic_blur(sharp, LOW_PASS_SIGMA)
    for a in (sharp, soft):
        a.setflags(write=False)
    return sharp, soft


def _ellipsoid_area(a: float, b: float, c: float) -> float:
    """Surface area of an ellipsoid (Knud Thomsen's formula, within ~1 %)."""
    p = 1.6075
    return 4 * math.pi * (((a * b) ** p + (a * c) ** p + (b * c) ** p) / 3) ** (1 / p)


def detail_scales(specs: list[PrimitiveSpec], tile_scale: np.ndarray,
                  with_detail: np.ndarray) -> np.ndarray:
    """(P+1,) float32: detail texels per atlas-UV unit of each primitive (entry 0 and
    primitives without detail: 0), indexed by primitive id + 1.

    The azimuthal equal-area map puts a unit sphere (area 4 pi) on a disc of area pi/4 in the
    primitive's own UV, so an ellipsoid of area A has about sqrt(pi / (4 A)) UV units per metre.
    """
    out = np.zeros(len(specs) + 1, np.float32)
    for k, spec in enumerate(specs):
        if not with_detail[k] or spec.kind == CYLINDER:
            continue
        uv_per_m = math.sqrt(math.pi / (4 * _ellipsoid_area(*spec.size))) * float(tile_scale[k])
        out[k + 1] = min(1.0 / (TEXEL_M * uv_per_m), MAX_SCALE)
    return out
