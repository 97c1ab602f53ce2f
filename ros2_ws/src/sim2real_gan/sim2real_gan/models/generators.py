"""Generators: the style-conditioned U-Net family (tiny/rt/base) and the CycleGAN ResNet.

Contract (docs/ARCHITECTURE.md): ``forward(image, style, aux=None)`` with image
(B,3,H,W) in [-1,1], style (B,style_dim), aux (B,A,H,W) or None -> (B,3,H,W) in [-1,1].
H and W must be divisible by ``size_multiple``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import AUX_CHANNELS, GeneratorConfig
from .layers import AdaIN, AdaResBlock, ConvNormAct, ResBlock, conv
from .style import MappingNetwork, StatsConditioning
from .texture import NeuralTexture
from .vignette import N_VIGNETTE, rim_distance, vignette


def _check_inputs(cfg: GeneratorConfig, image: torch.Tensor, style: torch.Tensor | None,
                  aux: torch.Tensor | None) -> None:
    """Raise ValueError naming what was expected and what arrived (skipped while tracing)."""
    if torch.jit.is_tracing():
        return
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"generator: expected image (B,3,H,W), got {tuple(image.shape)}")
    b, _, h, w = image.shape
    m = cfg.size_multiple
    if h % m or w % m:
        raise ValueError(f"generator ({cfg.preset}): H and W must be divisible by {m}, got {h}x{w}")
    if cfg.style_dim:
        if style is None or tuple(style.shape) != (b, cfg.style_dim):
            got = None if style is None else tuple(style.shape)
            raise ValueError(f"generator: expected style ({b}, {cfg.style_dim}), got {got}")
    if cfg.aux_dim:
        if aux is None or tuple(aux.shape) != (b, cfg.aux_dim, h, w):
            got = None if aux is None else tuple(aux.shape)
            raise ValueError(f"generator: expected aux ({b}, {cfg.aux_dim}, {h}, {w}) with "
                             f"channels {list(cfg.aux_channels)}, got {got}")
    elif aux is not None:
        raise ValueError(f"generator: this model takes no aux input, got {tuple(aux.shape)}")


def _icnr_(layer: nn.Conv2d, factor: int) -> None:
    """ICNR init (Aitken et al. 2017) of the conv feeding a PixelShuffle: the ``factor``
    sub-pixel outputs of each channel start with the same weights, so the head starts as a
    nearest-neighbour upsample instead of a checkerboard that training must first undo."""
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            if p is not None:
                p.copy_(p[::factor].repeat_interleave(factor, dim=0))


class StyleUNetGenerator(nn.Module):
    """Style-conditioned encoder / AdaIN-residual bottleneck / decoder (presets tiny, rt, base).

    Encoder: ``n_down`` stride-2 convs (first one straight from the input, so nothing runs
    at full resolution except the final 3-channel conv). Bottleneck: ``n_res`` AdaIN
    residual blocks at 1/2**n_down. Decoder: nearest x2 upsample + conv + AdaIN + ReLU, with
    the encoder feature of the same resolution added. Head: 3x3 conv to 12 channels at 1/2
    resolution + PixelShuffle(2) to RGB, plus (``input_skip``) a learned 1x1 colour map of
    the input image, then (``style_color``) a global 3x3 colour matrix + bias predicted from
    the style code (white balance / light colour of a video), tanh, then (``vignette``) a
    radial darkening towards the frame's rim set by the style code (models/vignette.py),
    then (``style_stats``) the statistics-conditioned stage: the output's CIELAB moments are moved to those the
    first 6 entries of the style code ask for. The skip keeps edges (labels) in place from
    the first step.
    """

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.config = cfg
        pm = cfg.padding_mode
        chans = [min(cfg.ngf * 2 ** i, cfg.max_channels) for i in range(cfg.n_down)]
        self.texture = (NeuralTexture(cfg.texture_channels, cfg.texture_size, cfg.texture_levels)
                        if cfg.texture_channels else None)
        cin = 3 + sum(cfg.texture_channels if (a == "uv" and self.texture is not None)
                      else AUX_CHANNELS[a] for a in cfg.aux_channels)
        self.encoder = nn.ModuleList()
        for c in chans:
            self.encoder.append(ConvNormAct(cin, c, 3, 2, pm))
            cin = c
        self.blocks = nn.ModuleList(AdaResBlock(chans[-1], pm) for _ in range(cfg.n_res))
        self.up_convs = nn.ModuleList()
        self.up_norms = nn.ModuleList()
        for i in range(cfg.n_down - 1, 0, -1):
            self.up_convs.append(conv(chans[i], chans[i - 1], 3, 1, pm))
            self.up_norms.append(AdaIN(chans[i - 1]))
        # Head at 1/2 resolution (a 3-channel conv at full resolution is the slowest layer on
        # CPU): 12 channels -> PixelShuffle(2), or 3 channels -> bilinear x2 (no checkerboard).
        if cfg.head == "shuffle":
            self.head = nn.Sequential(conv(chans[0], 12, 3, 1, pm), nn.PixelShuffle(2))
            _icnr_(self.head[0], 4)
        else:
            self.head = nn.Sequential(conv(chans[0], 3, 3, 1, pm),
                                      nn.Upsample(scale_factor=2.0, mode="bilinear",
                                                  align_corners=False))
        self.stats = StatsConditioning() if cfg.style_stats else None
        if cfg.input_skip:  # learned per-pixel colour map of the input, starts as identity
            self.skip = nn.Conv2d(3, 3, 1)
            with torch.no_grad():
                self.skip.weight.copy_(torch.eye(3)[:, :, None, None])
                self.skip.bias.zero_()
        self.n_style_params = (sum(b.n_params for b in self.blocks)
                               + sum(2 * n.channels for n in self.up_norms)
                               + (12 if cfg.style_color else 0)
                               + (N_VIGNETTE if cfg.vignette else 0))
        if cfg.style_dim:
            self.mapping = MappingNetwork(cfg.style_dim, cfg.style_hidden, self.n_style_params)
        else:
            self.style_const = nn.Parameter(torch.zeros(1, self.n_style_params))

    @property
    def size_multiple(self) -> int:
        return self.config.size_multiple

    @property
    def style_dim(self) -> int:
        return self.config.style_dim

    def _input(self, image: torch.Tensor, aux: torch.Tensor | None) -> torch.Tensor:
        parts = [image]
        i = 0
        for name in self.config.aux_channels:
            a = aux[:, i:i + AUX_CHANNELS[name]]
            i += AUX_CHANNELS[name]
            if name == "uv":
                parts.append(self.texture(a) if self.texture is not None else a * 2 - 1)
            else:  # depth in metres -> [-1, 1]
                parts.append((a / self.config.depth_max).clamp(0, 1) * 2 - 1)
        return torch.cat(parts, 1) if len(parts) > 1 else image

    def encode(self, image: torch.Tensor, aux: torch.Tensor | None = None) -> torch.Tensor:
        """Style-free content features (B, C, H/2**n_down, W/2**n_down) of the encoder
        (MUNIT content code; used by the content reconstruction loss)."""
        _check_inputs(self.config.replace(style_dim=0), image, None, aux)
        h = self._input(image, aux)
        for enc in self.encoder:
            h = enc(h)
        return h

    def forward(self, image: torch.Tensor, style: torch.Tensor | None = None,
                aux: torch.Tensor | None = None, rim: torch.Tensor | None = None) -> torch.Tensor:
        """image (B,3,H,W) [-1,1], style (B,style_dim), aux (B,A,H,W)|None -> (B,3,H,W) [-1,1].

        ``rim`` (B,1,H,W): distance from the whole frame's centre (models/vignette.py) when
        ``image`` is a crop (training); None = ``image`` is a whole frame."""
        _check_inputs(self.config, image, style, aux)
        if rim is not None and not torch.jit.is_tracing() and (
                rim.shape[0] != image.shape[0] or tuple(rim.shape[1:]) != (1, *image.shape[2:])):
            raise ValueError(f"generator: expected rim ({image.shape[0]}, 1, {image.shape[2]}, "
                             f"{image.shape[3]}), got {tuple(rim.shape)}")
        if self.config.style_dim:
            p = self.mapping(style)
        else:
            p = self.style_const.expand(image.shape[0], -1)
        h = self._input(image, aux)
        skips = []
        for enc in self.encoder:
            h = enc(h)
            skips.append(h)
        k = 0
        for blk in self.blocks:
            h = blk(h, p[:, k:k + blk.n_params])
            k += blk.n_params
        for j, (cv, nm) in enumerate(zip(self.up_convs, self.up_norms, strict=True)):
            h = cv(F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = h + skips[-2 - j]
            g, b = torch.split(p[:, k:k + 2 * nm.channels], nm.channels, dim=1)
            k += 2 * nm.channels
            h = F.relu(nm(h, g, b))
        h = self.head(h)
        if self.config.input_skip:
            h = h + self.skip(image)
        if self.config.style_color:  # global colour grade: (I + dM(s)) h + db(s)
            c = p[:, k:k + 12]
            k += 12
            m = c[:, :9].reshape(-1, 3, 3) + torch.eye(3, dtype=h.dtype, device=h.device)
            b, _, hh, ww = h.shape
            h = torch.bmm(m, h.reshape(b, 3, hh * ww)).reshape(b, 3, hh, ww) + c[:, 9:, None, None]
        out = torch.tanh(h)
        if self.config.vignette or self.stats is not None:
            rim = rim_distance(image) if rim is None else rim
        if self.config.vignette:  # the scope's darkening towards the rim
            out = vignette(out, rim, p[:, k:k + N_VIGNETTE])
        if self.stats is not None:  # the code's colour moments, over the scope's view r <= 1
            out = self.stats(out, style, (rim <= 1.0).to(out.dtype))
        return out


class ResnetGenerator(nn.Module):
    """CycleGAN ResNet generator (c7s1-ngf, d, d, R x n_res, u, u, c7s1-3); per frame, no style.

    ``forward(image, style=None, aux=None)``: ``style`` must be None or (B, 0); aux None.
    """

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.config = cfg
        pm = cfg.padding_mode
        layers: list[nn.Module] = [ConvNormAct(3, cfg.ngf, 7, 1, pm)]
        c = cfg.ngf
        for _ in range(cfg.n_down):
            layers.append(ConvNormAct(c, min(2 * c, cfg.max_channels), 3, 2, pm))
            c = min(2 * c, cfg.max_channels)
        layers += [ResBlock(c, pm) for _ in range(cfg.n_res)]
        for _ in range(cfg.n_down):
            cout = max(c // 2, 1)
            layers += [nn.ConvTranspose2d(c, cout, 3, stride=2, padding=1, output_padding=1),
                       nn.InstanceNorm2d(cout, affine=True), nn.ReLU(inplace=True)]
            c = cout
        layers += [conv(c, 3, 7, 1, pm), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    @property
    def size_multiple(self) -> int:
        return self.config.size_multiple

    @property
    def style_dim(self) -> int:
        return 0

    def forward(self, image: torch.Tensor, style: torch.Tensor | None = None,
                aux: torch.Tensor | None = None, rim: torch.Tensor | None = None) -> torch.Tensor:
        """image (B,3,H,W) in [-1,1] -> (B,3,H,W) in [-1,1]; style/aux must be empty, rim is
        not used (no vignetting stage)."""
        if style is not None and style.numel() and not torch.jit.is_tracing():
            raise ValueError(f"cyclegan generator takes no style, got {tuple(style.shape)}")
        _check_inputs(self.config, image, None, aux)
        return self.net(image)


#: Explicit registry: GeneratorConfig.arch -> class.
GENERATORS: dict[str, type[nn.Module]] = {
    "style_unet": StyleUNetGenerator,
    "resnet": ResnetGenerator,
}


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    """Build the generator described by ``cfg`` (randomly initialised).

    >>> from sim2real_gan.models import get_preset
    >>> g = build_generator(get_preset("tiny"))
    >>> g(torch.zeros(1, 3, 32, 32), torch.zeros(1, 4)).shape
    torch.Size([1, 3, 32, 32])
    """
    if not isinstance(cfg, GeneratorConfig):
        raise TypeError(f"build_generator: expected GeneratorConfig, got {type(cfg).__name__}")
    return GENERATORS[cfg.arch](cfg)
