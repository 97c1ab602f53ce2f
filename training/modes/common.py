"""Pieces the generator steps of several modes share: the style draw, the look statistics
of the reference loss, what a discriminator sees (content mask, blur), capturing a layer's
output, calling a discriminator frozen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from sim2real_gan.models.colour import content_weight, highlight_share, lab_moments, rgb_to_lab
from torch import nn

from ..distributed import unwrap

#: Lab units of one "unit" of each moment in the reference loss (mean L, a, b, std L, a, b).
LOOK_UNITS = (10.0, 10.0, 10.0, 5.0, 5.0, 5.0)


def frozen(m: nn.Module | None) -> nn.Module | None:
    """The unwrapped module with gradients off (a discriminator during the G step)."""
    return None if m is None else unwrap(m).requires_grad_(False)


def draw_style(style_dim: int, b: int, gen: torch.Generator, device: torch.device,
               E: nn.Module | None = None, real: torch.Tensor | None = None,
               ref_prob: float = 0.0, ref_grad: bool = False
               ) -> tuple[torch.Tensor | None, bool]:
    """Style code for one step -> (s (B, style_dim) or None, drawn from a real reference?).

    With a style encoder ``E`` and real frames, a reference code E(real) is drawn with
    probability ``ref_prob`` (one draw from ``gen``); otherwise s ~ N(0, 1) from ``gen``.
    The reference code keeps its graph to E only with ``ref_grad``.
    """
    if not style_dim:
        return None, False
    if E is not None and real is not None and torch.rand((), generator=gen).item() < ref_prob:
        if ref_grad:
            return E(real), True
        with torch.no_grad():
            return unwrap(E)(real).detach(), True
    return torch.randn(b, style_dim, generator=gen).to(device), False


def radial_slope(lum: torch.Tensor, rim: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Vignetting depth: weighted least-squares slope of ``lum`` (B,1,H,W) against rim**2
    (``rim``: distance from the frame centre, models/vignette.py) over ``weight`` -> (B,)."""
    x = rim.square()
    n = weight.sum((1, 2, 3)).clamp_min(1.0)

    def mean(t: torch.Tensor) -> torch.Tensor:
        return (t * weight).sum((1, 2, 3)) / n

    mx, ml = mean(x), mean(lum)
    dx = x - mx[:, None, None, None]
    cov = mean(dx * (lum - ml[:, None, None, None]))
    return cov / (mean(dx.square()) + 1e-3)


def look_stats(img: torch.Tensor, weight: torch.Tensor | None = None,
               rim: torch.Tensor | None = None) -> torch.Tensor:
    """The look of images (B,3,H,W) in [-1,1] over a region -> (B, 13 or 14): CIELAB moments
    (mean and std of L, a, b) at full and 1/4 resolution in units of ``LOOK_UNITS``, the
    share of specular highlights (L > 85) x 10 and, with ``rim`` (B,1,H,W), the vignetting
    depth (:func:`radial_slope` of L / 20). ``weight`` (B,1,H,W): the region (a real frame's
    content mask); None: the whole image (with ``rim``: the scope's view, rim <= 1)."""
    lab = rgb_to_lab((img + 1) * 0.5)
    if weight is None and rim is not None:
        weight = (rim <= 1.0).to(img.dtype)
    units = torch.tensor(LOOK_UNITS, dtype=img.dtype, device=img.device)
    small = F.avg_pool2d(lab, 4)
    w_small = None if weight is None else (F.avg_pool2d(weight, 4) > 0.99).to(img.dtype)
    parts = [lab_moments(lab, weight) / units, lab_moments(small, w_small) / units,
             10.0 * highlight_share(lab, weight)[:, None]]
    if rim is not None:
        w = torch.ones_like(rim) if weight is None else weight
        parts.append(radial_slope(lab[:, :1], rim, w)[:, None] / 20.0)
    return torch.cat(parts, 1)


def real_weight(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """(B,1,H,W) content area of the batch's real frames: ``real_mask`` when the source has
    one, else the pixels brighter than a black surround."""
    if "real_mask" in batch:
        return batch["real_mask"]
    return content_weight((batch["real"] + 1) * 0.5)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Depthwise Gaussian blur of (B,C,H,W) (reflect padding); ``sigma`` 0 returns ``x``."""
    if sigma <= 0:
        return x
    r = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def d_view(img: torch.Tensor, mask: torch.Tensor | None, blur: float = 0.0) -> torch.Tensor:
    """What a discriminator sees of real or translated frames (B,3,H,W) in [-1,1]: black
    (-1) outside ``mask`` (B,1,H,W), the real frames' content area (the same mask for real
    and fake, so a footage surround or burned-in text carries no signal), then blurred by
    ``blur`` px (per-frame sensor noise, which a temporally consistent translator must not
    copy, carries none either)."""
    if mask is not None:
        if mask.shape[0] != img.shape[0]:
            mask = mask.repeat(img.shape[0] // mask.shape[0], 1, 1, 1)
        img = img * mask + (mask - 1)
    return gaussian_blur(img, blur)


@contextmanager
def capture_output(module: nn.Module | None) -> Iterator[list[torch.Tensor]]:
    """Record ``module``'s forward outputs in the yielded list (nothing when None)."""
    out: list[torch.Tensor] = []
    handle = None if module is None else module.register_forward_hook(
        lambda m, i, o: out.append(o))
    try:
        yield out
    finally:
        if handle is not None:
            handle.remove()
