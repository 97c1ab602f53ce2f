"""Structure preservation: (MS-)SSIM on luminance between the sim input and its translation.

Own implementation (Gaussian window, Wang et al. 2003/2004) so that small crops can use
fewer scales; tests check it against torchmetrics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Wang et al. 2003 scale weights (finest first).
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) in [-1,1] -> Y (B,1,H,W) in [0,1] (ITU-R BT.601 weights)."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"luminance: expected (B,3,H,W), got {tuple(rgb.shape)}")
    w = rgb.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return ((rgb + 1) * 0.5 * w).sum(1, keepdim=True)


def _gauss(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    x = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _ssim_cs(x: torch.Tensor, y: torch.Tensor, win: int, sigma: float, data_range: float
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image mean SSIM and contrast-structure terms (valid convolution) -> (B,), (B,)."""
    c = x.shape[1]
    g = _gauss(win, sigma, x)
    kx = g.view(1, 1, 1, win).expand(c, 1, 1, win)
    ky = g.view(1, 1, win, 1).expand(c, 1, win, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, kx, groups=c), ky, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx * mx + my * my + c1) * cs
    return ssim.flatten(1).mean(1), cs.flatten(1).mean(1)


def ssim(x: torch.Tensor, y: torch.Tensor, win: int = 11, sigma: float = 1.5,
         data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM per image. x, y (B,C,H,W) with H, W >= win -> (B,)."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ssim: expected two (B,C,H,W) tensors of one shape, got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    if min(x.shape[-2:]) < win:
        raise ValueError(f"ssim: images {tuple(x.shape[-2:])} smaller than the window {win}")
    return _ssim_cs(x, y, win, sigma, data_range)[0]


def max_scales(height: int, width: int, win: int = 11) -> int:
    """How many MS-SSIM scales fit: the coarsest image must still be >= win."""
    n = 1
    while n < len(MS_SSIM_WEIGHTS) and min(height, width) // 2 ** n >= win:
        n += 1
    return n


def ms_ssim(x: torch.Tensor, y: torch.Tensor, scales: int | None = None, win: int = 11,
            sigma: float = 1.5, data_range: float = 1.0) -> torch.Tensor:
    """Multi-scale SSIM per image (B,). ``scales`` None = as many as fit (<= 5).

    Uses the first ``scales`` Wang weights renormalised to sum to 1; with scales=1 this is
    plain SSIM. Contrast-structure terms are clamped at 0 before the fractional power.
    """
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"ms_ssim: expected two (B,C,H,W) tensors of one shape, got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    fit = max_scales(*x.shape[-2:], win=win)
    scales = fit if scales is None else scales
    if not 1 <= scales <= fit:
        raise ValueError(f"ms_ssim: {scales} scales do not fit {tuple(x.shape[-2:])} images "
                         f"with window {win} (at most {fit})")
    w = torch.tensor(MS_SSIM_WEIGHTS[:scales], dtype=x.dtype, device=x.device)
    w = w / w.sum()
    out = torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
    for i in range(scales):
        s, cs = _ssim_cs(x, y, win, sigma, data_range)
        term = s if i == scales - 1 else cs
        out = out * term.clamp_min(1e-6) ** w[i]
        if i < scales - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return out


def structure_loss(sim: torch.Tensor, fake: torch.Tensor, scales: int | None = None,
                   win: int = 11) -> torch.Tensor:
    """1 - MS-SSIM(Y(sim), Y(fake)), mean over the batch; images (B,3,H,W) in [-1,1].

    Small crops automatically use fewer scales (and a smaller window below 11 px). Always
    computed in float32 outside autocast: SSIM's variances are differences of nearly equal
    local means (E[x^2] - mu^2), which bf16/fp16 arithmetic turns into rounding noise (under
    bf16 autocast the loss read 0.74 instead of 0.035, its gradient off by 18x).
    """
    win = min(win, min(sim.shape[-2:]) // 2 * 2 - 1) if min(sim.shape[-2:]) < win else win
    dtype = torch.promote_types(torch.promote_types(sim.dtype, fake.dtype), torch.float32)
    with torch.autocast(sim.device.type, enabled=False):
        return 1 - ms_ssim(luminance(sim.to(dtype)), luminance(fake.to(dtype)), scales,
                           win).mean()
