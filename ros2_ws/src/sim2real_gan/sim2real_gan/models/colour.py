"""CIELAB colour moments in torch (differentiable, ONNX-exportable): the colour statistics a
reference frame hands to the generator's statistics-conditioned output stage.

sRGB (D65) <-> CIE XYZ <-> CIELAB (L in [0, 100], a and b about [-100, 100]) with the
standard piecewise sRGB transfer curve and the CIE f(t) companding; every power is taken
of a clamped, positive argument so neither branch of a ``where`` yields NaN (or a NaN
gradient). Moments are per image over a region: the ``N_MOMENTS`` = 6 values (mean L, a,
b, then std L, a, b).

>>> import torch
>>> lab = rgb_to_lab(torch.ones(1, 3, 2, 2))
>>> [round(float(v), 1) for v in lab[0, :, 0, 0]]
[100.0, 0.0, 0.0]
"""

from __future__ import annotations

import torch

__all__ = ["N_MOMENTS", "BLACK_LEVEL", "rgb_to_lab", "lab_to_rgb", "lab_moments",
           "content_weight", "highlight_share"]

N_MOMENTS = 6
BLACK_LEVEL = 20.0 / 255.0   # a pixel whose brightest channel is below this is surround
_RGB2XYZ = ((0.4124564, 0.3575761, 0.1804375),
            (0.2126729, 0.7151522, 0.0721750),
            (0.0193339, 0.1191920, 0.9503041))
_WHITE = (0.95047, 1.0, 1.08883)
_D = 6.0 / 29.0


def _matrix(rows: tuple, x: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 matrix to the channel axis of (B,3,H,W)."""
    m = torch.tensor(rows, dtype=x.dtype, device=x.device)
    return torch.einsum("ij,bjhw->bihw", m, x)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) sRGB in [0,1] -> (B,3,H,W) CIELAB (L, a, b), D65 white."""
    c = rgb.clamp(0.0, 1.0)
    lin = torch.where(c > 0.04045, ((c + 0.055) / 1.055).clamp_min(1e-6) ** 2.4, c / 12.92)
    white = torch.tensor(_WHITE, dtype=rgb.dtype, device=rgb.device)[None, :, None, None]
    t = _matrix(_RGB2XYZ, lin) / white
    f = torch.where(t > _D ** 3, t.clamp_min(1e-6) ** (1.0 / 3.0), t / (3 * _D * _D) + 4.0 / 29.0)
    fx, fy, fz = f[:, 0:1], f[:, 1:2], f[:, 2:3]
    return torch.cat([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) CIELAB -> (B,3,H,W) sRGB clamped to [0,1] (inverse of :func:`rgb_to_lab`)."""
    fy = (lab[:, 0:1] + 16.0) / 116.0
    f = torch.cat([fy + lab[:, 1:2] / 500.0, fy, fy - lab[:, 2:3] / 200.0], 1)
    t = torch.where(f > _D, f.clamp_min(0.0) ** 3, 3 * _D * _D * (f - 4.0 / 29.0))
    white = torch.tensor(_WHITE, dtype=lab.dtype, device=lab.device)[None, :, None, None]
    inv = torch.linalg.inv(torch.tensor(_RGB2XYZ, dtype=torch.float64)).to(lab.dtype)
    lin = torch.einsum("ij,bjhw->bihw", inv.to(lab.device), t * white).clamp(0.0, 1.0)
    srgb = torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(1e-6) ** (1.0 / 2.4) - 0.055,
                       12.92 * lin)
    return srgb.clamp(0.0, 1.0)


def content_weight(rgb: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) sRGB [0,1] -> (B,1,H,W) 1 where the brightest channel reaches
    :data:`BLACK_LEVEL` (the scene), 0 in a black surround (footage's field stop)."""
    return (rgb.amax(1, keepdim=True) >= BLACK_LEVEL).to(rgb.dtype)


def lab_moments(lab: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """(B,3,H,W) Lab, optional (B,1,H,W) weights -> (B,6): mean L, a, b, std L, a, b over the
    weighted region (the whole image without ``weight``; an empty region counts as whole)."""
    if weight is None:
        mean = lab.mean((2, 3))
        var = (lab - mean[:, :, None, None]).square().mean((2, 3))
    else:
        w = weight.to(lab.dtype)
        empty = (w.sum((2, 3), keepdim=True) < 1).to(lab.dtype)
        w = w + empty  # no content at all: use every pixel
        n = w.sum((2, 3))
        mean = (lab * w).sum((2, 3)) / n
        var = ((lab - mean[:, :, None, None]).square() * w).sum((2, 3)) / n
    return torch.cat([mean, (var + 1e-4).sqrt()], 1)


def highlight_share(lab: torch.Tensor, weight: torch.Tensor | None = None,
                    level: float = 85.0, softness: float = 3.0) -> torch.Tensor:
    """(B,3,H,W) Lab -> (B,) soft share of the region's pixels with L above ``level``
    (specular highlights), differentiable (a sigmoid of width ``softness`` L units)."""
    s = torch.sigmoid((lab[:, 0:1] - level) / softness)
    if weight is None:
        return s.mean((1, 2, 3))
    w = weight.to(lab.dtype)
    return (s * w).sum((1, 2, 3)) / w.sum((1, 2, 3)).clamp_min(1.0)
