"""Style code modules (MUNIT, Huang et al. 2018; Pfeiffer et al. 2019).

The style code ``s`` (B, style_dim) has an N(0,1) prior: a random appearance is
``torch.randn(B, style_dim)``. The :class:`MappingNetwork` (inside the generator) maps ``s``
to the AdaIN scale/shift parameters of every modulated layer; the :class:`StyleEncoder`
maps a real reference image to a code in the same space (trained with the style
reconstruction loss), so ``G(x, E(ref))`` copies the look of ``ref``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .colour import BLACK_LEVEL, N_MOMENTS, content_weight, lab_moments, lab_to_rgb, rgb_to_lab

if TYPE_CHECKING:
    from .config import GeneratorConfig

#: Typical CIELAB moments (mean L, a, b, std L, a, b) of laparoscopic frames and their spread:
#: the statistics part of the style code is ``(moments - STATS_LOC) / STATS_SCALE`` until the
#: trainer measures them on its real frames (``StatsConditioning.calibrate``).
STATS_LOC = (45.0, 25.0, 20.0, 18.0, 8.0, 10.0)
STATS_SCALE = (8.0, 6.0, 6.0, 5.0, 3.0, 3.0)
#: The output's own std is scaled by at most this factor either way (no blow-up of a flat
#: channel) and the wanted moments are kept in a displayable range.
MAX_STD_GAIN = 4.0


class MappingNetwork(nn.Module):
    """MLP ``s`` (B, style_dim) -> AdaIN parameters (B, n_out).

    The last layer starts at zero, so an untrained generator ignores the style code.
    """

    def __init__(self, style_dim: int, hidden: int, n_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(style_dim, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, n_out))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.net(s)


class StatsConditioning(nn.Module):
    """The statistics part of a style code (its first ``N_MOMENTS`` entries) <-> CIELAB
    moments, and the generator's statistics-conditioned output stage.

    ``moments = loc + chol @ s[:, :6]`` (buffers ``loc``, ``chol``: the real frames' mean
    moments and the Cholesky factor of their covariance, so an N(0,1) code is a plausible
    look, correlations included; ``chol_inv`` its inverse for :meth:`code`). ``forward``
    moves an image's own Lab moments to the wanted ones (per channel: subtract its mean,
    scale its spread, add the wanted mean; Reinhard et al. 2001 in CIELAB), so a code encoded
    from any reference frame gives that frame's colour, brightness and contrast.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("loc", torch.tensor(STATS_LOC))
        self.register_buffer("chol", torch.diag(torch.tensor(STATS_SCALE)))
        self.register_buffer("chol_inv", torch.diag(1.0 / torch.tensor(STATS_SCALE)))

    @property
    def scale(self) -> torch.Tensor:
        """(6,) spread of each moment (the square root of the covariance's diagonal)."""
        return self.chol.square().sum(1).sqrt()

    def calibrate(self, moments: torch.Tensor) -> None:
        """Set ``loc`` / ``chol`` from (N,6) moments of the real training frames (each
        variance at least 0.25, so a constant moment cannot make the factor singular)."""
        if moments.ndim != 2 or moments.shape[1] != N_MOMENTS or moments.shape[0] < 2:
            raise ValueError(f"calibrate: expected (N>=2, {N_MOMENTS}) moments, got "
                             f"{tuple(moments.shape)}")
        m = moments.double()
        cov = torch.cov(m.T) + 0.25 * torch.eye(N_MOMENTS, dtype=m.dtype)
        chol = torch.linalg.cholesky(cov)
        self.loc.copy_(m.mean(0))
        self.chol.copy_(chol)
        self.chol_inv.copy_(torch.linalg.inv(chol))

    def code(self, moments: torch.Tensor) -> torch.Tensor:
        """(B,6) Lab moments -> (B,6) statistics part of the style code."""
        return (moments - self.loc) @ self.chol_inv.T

    def moments(self, code: torch.Tensor) -> torch.Tensor:
        """(B,>=6) style code -> (B,6) wanted Lab moments (kept displayable)."""
        m = self.loc + code[:, :N_MOMENTS] @ self.chol.T
        lo = torch.tensor([5.0, -90.0, -90.0, 1.0, 0.5, 0.5], dtype=m.dtype, device=m.device)
        hi = torch.tensor([95.0, 90.0, 90.0, 40.0, 30.0, 30.0], dtype=m.dtype, device=m.device)
        return torch.maximum(torch.minimum(m, hi), lo)

    def forward(self, image: torch.Tensor, code: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        """image (B,3,H,W) in [-1,1], code (B,>=6) -> (B,3,H,W) in [-1,1] with (about) the
        wanted Lab moments over the region ``weight`` (B,1,H,W) (default: the whole image)
        minus its near-black pixels, as a reference's are measured over its content area.
        Near-black pixels (a cavity the light does not reach, the black background class)
        stay as they are: the transfer fades out below the footage black level.

        The CIELAB transfer runs on a 4x average-pooled copy (1/16 of the pixels); the
        full-resolution image then gets the least-squares affine colour map (3x3 + bias per
        image, as cheap as the colour grade) from the copy to its transferred version. So no
        per-pixel power function runs at full resolution (a full-resolution CIELAB round trip
        doubled the ``rt`` model's CPU time). H and W must be at least 4."""
        rgb_full = (image + 1) * 0.5
        rgb = F.avg_pool2d(rgb_full, POOL)
        w = content_weight(rgb)
        if weight is not None:
            w = w * F.avg_pool2d(weight, POOL)
        lab = rgb_to_lab(rgb)
        own = lab_moments(lab, w)
        want = self.moments(code)
        gain = (want[:, 3:] / own[:, 3:]).clamp(1.0 / MAX_STD_GAIN, MAX_STD_GAIN)
        lab = (lab - own[:, :3, None, None]) * gain[:, :, None, None] + want[:, :3, None, None]
        m, mx, my = _affine_fit(rgb, lab_to_rgb(lab), w)
        b, _, h, wd = image.shape
        x = (rgb_full - mx[:, :, None, None]).reshape(b, 3, h * wd)
        out = (torch.bmm(m, x).reshape(b, 3, h, wd) + my[:, :, None, None]).clamp(0.0, 1.0)
        keep = ((1.5 * BLACK_LEVEL - rgb_full.amax(1, keepdim=True)) / BLACK_LEVEL).clamp(0, 1)
        return (keep * rgb_full + (1 - keep) * out) * 2 - 1


POOL = 4


def _inv3(a: torch.Tensor) -> torch.Tensor:
    """Inverse of (B,3,3) matrices by cofactors (plain arithmetic: exportable to ONNX)."""
    c00 = a[:, 1, 1] * a[:, 2, 2] - a[:, 1, 2] * a[:, 2, 1]
    c01 = a[:, 1, 2] * a[:, 2, 0] - a[:, 1, 0] * a[:, 2, 2]
    c02 = a[:, 1, 0] * a[:, 2, 1] - a[:, 1, 1] * a[:, 2, 0]
    c10 = a[:, 0, 2] * a[:, 2, 1] - a[:, 0, 1] * a[:, 2, 2]
    c11 = a[:, 0, 0] * a[:, 2, 2] - a[:, 0, 2] * a[:, 2, 0]
    c12 = a[:, 0, 1] * a[:, 2, 0] - a[:, 0, 0] * a[:, 2, 1]
    c20 = a[:, 0, 1] * a[:, 1, 2] - a[:, 0, 2] * a[:, 1, 1]
    c21 = a[:, 0, 2] * a[:, 1, 0] - a[:, 0, 0] * a[:, 1, 2]
    c22 = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
    det = a[:, 0, 0] * c00 + a[:, 0, 1] * c01 + a[:, 0, 2] * c02
    adj = torch.stack([torch.stack([c00, c10, c20], 1), torch.stack([c01, c11, c21], 1),
                       torch.stack([c02, c12, c22], 1)], 1)
    return adj / det[:, None, None]


def _affine_fit(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Least-squares colour map ``y ~ my + M (x - mx)`` over the (weighted) pixels of
    (B,3,H,W) images -> M (B,3,3), mx (B,3), my (B,3) (ridge 1e-4 keeps flat images stable)."""
    b = x.shape[0]
    wt = torch.ones_like(x[:, :1]) if w is None else w
    n = wt.sum((2, 3)).clamp_min(1e-6)                                   # (B,1)
    mx, my = (x * wt).sum((2, 3)) / n, (y * wt).sum((2, 3)) / n
    xc = ((x - mx[:, :, None, None]) * wt.sqrt()).reshape(b, 3, -1)
    yc = ((y - my[:, :, None, None]) * wt.sqrt()).reshape(b, 3, -1)
    cxx = torch.bmm(xc, xc.transpose(1, 2)) / n[:, :, None]
    cyx = torch.bmm(yc, xc.transpose(1, 2)) / n[:, :, None]
    eye = torch.eye(3, dtype=x.dtype, device=x.device)[None]
    return torch.bmm(cyx, _inv3(cxx + 1e-4 * eye)), mx, my


class StyleEncoder(nn.Module):
    """Reference image (B,3,H,W) in [-1,1] -> style code (B, style_dim).

    Strided convs without normalisation (instance norm would erase the style), global
    average pooling over the reference's content area (pixels brighter than the black
    surround of footage), then a linear layer. With ``stats`` the first ``N_MOMENTS``
    entries are not learned: they are the reference's CIELAB moments over its content
    area, normalised by :class:`StatsConditioning` (so any reference frame, however far
    from the training data, hands its colour statistics to the generator exactly).
    Works at any H, W >= 2**n_down.
    """

    def __init__(self, style_dim: int, ngf: int = 16, n_down: int = 4,
                 stats: bool = False) -> None:
        super().__init__()
        if style_dim < 1 or (stats and style_dim < N_MOMENTS):
            raise ValueError(f"StyleEncoder: style_dim must be >= {N_MOMENTS if stats else 1}, "
                             f"got {style_dim}")
        layers: list[nn.Module] = [nn.Conv2d(3, ngf, 3, padding=1), nn.ReLU(inplace=True)]
        c = ngf
        for i in range(n_down):
            cout = ngf * 2 ** min(i + 1, 2)
            layers += [nn.Conv2d(c, cout, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
            c = cout
        self.features = nn.Sequential(*layers)
        self.pool = 2 ** n_down
        self.stats = StatsConditioning() if stats else None
        learned = style_dim - (N_MOMENTS if stats else 0)
        self.head = nn.Linear(c, learned) if learned else None
        self.style_dim = style_dim

    def forward(self, ref: torch.Tensor) -> torch.Tensor:
        if ref.ndim != 4 or ref.shape[1] != 3:
            raise ValueError(f"StyleEncoder: expected (B,3,H,W), got {tuple(ref.shape)}")
        rgb = (ref + 1) * 0.5
        w = content_weight(rgb)
        parts = []
        if self.stats is not None:
            parts.append(self.stats.code(lab_moments(rgb_to_lab(rgb), w)))
        if self.head is not None:
            f = self.features(ref)
            ws = F.avg_pool2d(w, self.pool, self.pool)[..., :f.shape[2], :f.shape[3]]
            pooled = (f * ws).sum((2, 3)) / ws.sum((2, 3)).clamp_min(1e-3)
            parts.append(self.head(pooled))
        return torch.cat(parts, 1) if len(parts) > 1 else parts[0]


def build_style_encoder(cfg: GeneratorConfig) -> StyleEncoder:
    """The style encoder matching generator config ``cfg`` (randomly initialised)."""
    return StyleEncoder(cfg.style_dim, cfg.style_enc_ngf, cfg.style_enc_down, cfg.style_stats)
