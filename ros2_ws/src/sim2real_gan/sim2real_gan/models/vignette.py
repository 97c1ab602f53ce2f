"""The scope's vignetting, as an output stage of the generator (``GeneratorConfig.vignette``).

Real endoscope footage darkens towards the rim of its circular content area. A fully
convolutional generator cannot know where the rim is, so it is told: ``rim`` (B,1,H,W) is
each pixel's distance from the centre of the *whole frame* in units of half its shorter side
(the scope's content area is about r <= 1; corners reach sqrt(2) on a square frame). The
stage multiplies the output by ``max(1 - k min(r, 1)^p, floor)`` with the strength ``k``
and the power ``p`` predicted from the style code: it darkens towards the rim of the scope's
view and no further beyond it (the corners of a square frame, black in footage, keep the
rim's shade), and never below ``FLOOR``: every pixel keeps its label's content visible; the
black surround beyond the field stop is not drawn.

During training ``rim`` is cropped and flipped with the frame (the crop's place in the
frame); at run time the input is a whole frame and ``rim_distance`` computes it from the
input's size (also inside the exported ONNX graph).

>>> import torch
>>> r = rim_distance(torch.zeros(1, 3, 4, 6))
>>> tuple(r.shape), round(float(r.min()), 3), round(float(r.max()), 3)
((1, 1, 4, 6), 0.354, 1.458)
"""

from __future__ import annotations

import torch

__all__ = ["N_VIGNETTE", "FLOOR", "rim_distance", "vignette", "vignette_gain"]

N_VIGNETTE = 2     # style parameters of the stage: strength and power
FLOOR = 0.3        # the darkest gain: vignetted pixels stay visible (and segmentable)


def rim_distance(image: torch.Tensor) -> torch.Tensor:
    """(B,C,H,W) whole frames -> (B,1,H,W) distance of each pixel centre from the frame
    centre ((W-1)/2, (H-1)/2) in units of min(H, W) / 2."""
    h, w = image.shape[-2], image.shape[-1]
    # sizes taken from the index ranges, so an ONNX trace keeps them dynamic
    ys = torch.arange(h, dtype=image.dtype, device=image.device)
    xs = torch.arange(w, dtype=image.dtype, device=image.device)
    half = (torch.minimum(ys[-1], xs[-1]) + 1) * 0.5
    dy = ((ys - ys[-1] * 0.5) / half)[:, None]
    dx = ((xs - xs[-1] * 0.5) / half)[None, :]
    r = (dy * dy + dx * dx).sqrt()
    return r[None, None].expand(image.shape[0], 1, h, w)


def vignette_gain(rim: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """rim (B,1,H,W), params (B,2) raw style parameters -> gain (B,1,H,W) in [FLOOR, 1]
    (constant beyond r = 1).

    Strength ``k = 0.95 sigmoid(params[:, 0])`` (0.475 at 0: the untrained stage starts
    near a typical scope, whose rim (r 0.85-1) the simulator's ``real`` rendering shows at
    0.70 x the centre's luminance while the flat ``sim`` rendering is 1.2 x brighter there),
    power ``p = 2 exp(0.4 tanh(params[:, 1]))`` (1.3 to 3)."""
    k = 0.95 * torch.sigmoid(params[:, 0])
    p = 2.0 * torch.exp(0.4 * torch.tanh(params[:, 1]))
    r = rim.clamp(1e-6, 1.0)
    return (1.0 - k[:, None, None, None] * r ** p[:, None, None, None]).clamp(FLOOR, 1.0)


def vignette(image: torch.Tensor, rim: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """image (B,3,H,W) in [-1,1] darkened towards the rim -> (B,3,H,W) in [-1,1]."""
    return (image + 1) * vignette_gain(rim, params) - 1
