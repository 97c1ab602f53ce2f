"""Texture atlas: one square tile per primitive, addressed by the surface UV.

The patch-field atlas marks class patches (fat on the abdominal wall and gallbladder); the
``real`` appearance uses a 4-channel atlas: albedo (tissue colour variation, vessels, fat
lobules, blood, fibrous ligament, metallic instruments) and bump height in metres. Noise is
periodic (FFT-filtered) so tiles have no hard edges in u; everything is drawn once per
sequence from the sequence's own generator. Finer, physically sized detail: detail.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.scene import PrimitiveSpec

CELL = 128  # texels per atlas cell
MARGIN_TEXELS = 2


@dataclass(frozen=True)
class AtlasLayout:
    """Square atlas of ``grid x grid`` cells of ``cell`` texels; primitive k owns a square
    tile of ``spans[k] x spans[k]`` cells (big surfaces get more texels)."""

    spans: tuple[int, ...]
    cell: int = CELL

    def __post_init__(self) -> None:
        total = sum(s * s for s in self.spans)
        grid = max(1, math.ceil(math.sqrt(total)))
        while True:
            places = _pack(self.spans, grid)
            if places is not None:
                break
            grid += 1
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "places", places)

    @property
    def size(self) -> int:
        """Atlas side in texels."""
        return self.grid * self.cell

    def tile_slice(self, k: int) -> tuple[slice, slice]:
        r, c = self.places[k]
        n = self.spans[k] * self.cell
        return slice(r * self.cell, r * self.cell + n), slice(c * self.cell, c * self.cell + n)

    def tile_texels(self, k: int) -> int:
        return self.spans[k] * self.cell

    @property
    def origin(self) -> np.ndarray:
        """(P,2) atlas UV of each tile's usable origin (a margin keeps bilinear lookups in)."""
        rc = np.asarray(self.places, np.float64)
        return (rc[:, ::-1] * self.cell + MARGIN_TEXELS) / self.size

    @property
    def scale(self) -> np.ndarray:
        """(P,) UV extent of each tile's usable area."""
        return (np.asarray(self.spans) * self.cell - 2.0 * MARGIN_TEXELS) / self.size


def _pack(spans: Sequence[int], grid: int) -> list[tuple[int, int]] | None:
    """Greedy placement of square tiles (largest first) on a grid; None if they do not fit."""
    used = np.zeros((grid, grid), bool)
    places: list[tuple[int, int]] = [(0, 0)] * len(spans)
    for k in sorted(range(len(spans)), key=lambda i: -spans[i]):
        s = spans[k]
        spot = next(((r, c) for r in range(grid - s + 1) for c in range(grid - s + 1)
                     if not used[r:r + s, c:c + s].any()), None)
        if spot is None:
            return None
        used[spot[0]:spot[0] + s, spot[1]:spot[1] + s] = True
        places[k] = spot
    return places


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], power: float,
                  low_cut: float = 1.0, aniso: float = 1.0) -> np.ndarray:
    """Periodic noise with amplitude spectrum ~ 1/f**power, zero mean, unit std, float32.

    ``aniso`` > 1 stretches features along the second axis (fibres).
    """
    h, w = shape
    spec = np.fft.rfft2(rng.standard_normal(shape))
    fy = np.fft.fftfreq(h)[:, None] * h
    fx = np.fft.rfftfreq(w)[None, :] * w * aniso
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec *= np.where(f < low_cut, 0.0, f ** -power)
    out = np.fft.irfft2(spec, s=shape)
    out -= out.mean()
    return (out / (out.std() + 1e-12)).astype(np.float32)


def _vessels(rng: np.random.Generator, size: int, count: int, width: float) -> np.ndarray:
    """(size,size) float32 in [0,1]: branching random-walk vessel mask."""
    canvas = np.zeros((size, size), np.float32)
    stack = [(rng.uniform(0, size, 2), rng.uniform(0, 2 * math.pi), width) for _ in range(count)]
    while stack:
        p, ang, wid = stack.pop()
        pts = [p.copy()]
        for _ in range(int(rng.integers(15, 45))):
            ang += rng.normal(0, 0.35)
            p = p + 3.0 * np.array([math.cos(ang), math.sin(ang)])
            pts.append(p.copy())
            if wid > 0.8 and rng.random() < 0.06:
                stack.append((p.copy(), ang + rng.choice([-1, 1]) * rng.uniform(0.5, 1.2), wid * 0.6))
        poly = np.round(np.array(pts) * 16).astype(np.int32)
        cv2.polylines(canvas, [poly], False, 1.0, max(1, int(round(wid))), cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(canvas, (0, 0), 0.6)


def patch_field_atlas(specs: Sequence[PrimitiveSpec], layout: AtlasLayout,
                      rng: np.random.Generator) -> np.ndarray:
    """(S,S) float32 field whose positive part marks class patches (e.g. fat on the wall).

    Sampled bilinearly at the surface UV, its zero level set is a smooth patch border;
    tiles of primitives without patches hold -1.
    """
    atlas = np.full((layout.size, layout.size), -1.0, np.float32)
    for k, spec in enumerate(specs):
        if spec.patches is not None:
            n = layout.tile_texels(k)
            noise = fractal_noise(rng, (n, n), 1.8, low_cut=2.0 * layout.spans[k])
            atlas[layout.tile_slice(k)] = noise - (0.7 if spec.label == C.WALL else 1.3)
    return atlas


# Linear-RGB base albedo of each class in the real appearance.
REAL_BASE = {
    C.LIVER: (0.28, 0.04, 0.025),
    C.FAT: (0.8, 0.48, 0.05),
    C.WALL: (0.62, 0.18, 0.12),
    C.LIGAMENT: (0.75, 0.45, 0.32),
    C.GALLBLADDER: (0.2, 0.28, 0.09),
    C.SHAFT: (0.06, 0.06, 0.065),
    C.TIP: (0.5, 0.5, 0.52),
}
VESSEL = np.array([0.30, 0.03, 0.06], np.float32)
BLOOD = np.array([0.20, 0.008, 0.01], np.float32)


def _tissue_tile(rng: np.random.Generator, label: int, color: np.ndarray,
                 t: int, blood: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """albedo (t,t,3) and bump height (t,t) metres of one tissue tile (``blood``: stains on
    some tiles; the random draws are the same either way)."""
    alb = color[None, None, :] * np.ones((t, t, 1), np.float32)
    low = fractal_noise(rng, (t, t), 1.8, low_cut=1.0)[..., None]
    mid = fractal_noise(rng, (t, t), 1.0, low_cut=4.0)
    alb *= 1.0 + 0.16 * low + np.array([0.0, 0.03, 0.03], np.float32) * low
    height = (0.00012 if label == C.LIVER else 0.0002) * mid
    if label == C.FAT:
        lobule = np.abs(fractal_noise(rng, (t, t), 1.2, low_cut=t / 24))
        septa = np.clip(1.0 - lobule * 2.5, 0, 1)
        alb *= (1.0 - 0.3 * septa)[..., None]
        alb += (septa * 0.08)[..., None] * np.array([0.3, -0.1, -0.1], np.float32)
        height += 0.0005 * lobule
    if label == C.LIGAMENT:
        fib = fractal_noise(rng, (t, t), 1.0, low_cut=3.0, aniso=6.0)
        alb *= (1.0 + 0.12 * fib)[..., None]
        height += 0.0002 * fib
    count = {C.WALL: 18, C.LIVER: 4, C.GALLBLADDER: 6, C.FAT: 3, C.LIGAMENT: 2}[label]
    ves = _vessels(rng, t, count * t // CELL, rng.uniform(1.0, 2.6)) * rng.uniform(0.5, 0.9)
    alb = alb * (1 - ves[..., None]) + VESSEL * ves[..., None]
    height += 0.0003 * ves
    if rng.random() < 0.45:
        stain = np.clip((fractal_noise(rng, (t, t), 1.7, low_cut=2.0) - 1.6) * 3.0, 0, 1)
        if blood:
            alb = alb * (1 - stain[..., None]) + BLOOD * stain[..., None]
            height -= 0.0002 * stain  # pooled blood is smooth
    return alb, height.astype(np.float32)


def _metal_tile(rng: np.random.Generator, color: np.ndarray,
                t: int) -> tuple[np.ndarray, np.ndarray]:
    scratch = fractal_noise(rng, (t, t), 0.8, low_cut=2.0, aniso=8.0)
    alb = color[None, None, :] * (1.0 + 0.06 * scratch)[..., None]
    return alb, 0.00002 * scratch


def real_palette(rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Per-sequence linear-RGB base colour of each class (jittered :data:`REAL_BASE`)."""
    out = {}
    for c, v in REAL_BASE.items():
        jitter = rng.uniform(0.85, 1.15) * rng.uniform(0.9, 1.1, 3)
        out[c] = np.clip(np.asarray(v) * jitter, 0, 1).astype(np.float32)
    return out


def real_atlas(specs: Sequence[PrimitiveSpec], layout: AtlasLayout, palette: dict[int, np.ndarray],
               rng: np.random.Generator, blood: bool = True) -> np.ndarray:
    """(S,S,4) float32: linear albedo RGB and bump height (metres) of every tile
    (``blood``: blood stains on some tissue tiles)."""
    n = layout.size
    atlas = np.zeros((n, n, 4), np.float32)
    for k, spec in enumerate(specs):
        t = layout.tile_texels(k)
        if spec.is_instrument:
            alb, height = _metal_tile(rng, palette[spec.label], t)
        else:
            alb, height = _tissue_tile(rng, spec.label, palette[spec.label], t, blood)
        sl = layout.tile_slice(k)
        atlas[sl] = np.concatenate([np.clip(alb, 0.0, 1.0), height[..., None]], -1)
    return atlas
