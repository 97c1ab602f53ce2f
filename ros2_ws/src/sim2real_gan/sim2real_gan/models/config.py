"""Generator configuration and the named size presets.

A :class:`GeneratorConfig` fully describes a generator network: it is stored in every
checkpoint's ``config.json`` so that training, export and the runtime rebuild the exact
same network without the original command line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sim2real_gan.artifact.registry import AUX_SOURCES

from .colour import N_MOMENTS

#: Channel counts of the auxiliary simulator inputs the generator understands, read from the
#: one aux registry (:data:`sim2real_gan.artifact.AUX_SOURCES`). ``uv``: surface texture
#: coordinates in [0, 1] (feeds the neural texture when enabled, else is fed raw).
#: ``depth``: metric depth in metres (normalised inside the network).
AUX_CHANNELS: dict[str, int] = {name: src.channels for name, src in AUX_SOURCES.items()}

ARCHS = ("style_unet", "resnet")
HEADS = ("shuffle", "bilinear")


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of a sim->real generator.

    ``style_unet`` (presets ``tiny``/``rt``/``base``): stride-2 encoder to 1/2**n_down,
    ``n_res`` style-modulated residual blocks (AdaIN: instance norm + per-channel scale and
    shift predicted from the style code by the mapping MLP), nearest-upsample decoder with
    additive encoder skips, and an optional full-resolution input skip.
    ``resnet`` (preset ``cyclegan``): the CycleGAN ResNet generator (Zhu et al. 2017),
    per frame, no style (``style_dim`` 0).
    """

    arch: str = "style_unet"
    preset: str = "custom"
    ngf: int = 16                 # channels after the first stride-2 conv
    n_down: int = 3               # stride-2 stages; H and W must be divisible by 2**n_down
    max_channels: int = 256
    n_res: int = 4                # residual blocks at the bottleneck
    style_dim: int = 8            # length of the style code s (N(0,1) prior); 0 = no style
    style_hidden: int = 64        # width of the mapping MLP s -> AdaIN parameters
    style_enc_ngf: int = 16       # style encoder width (reference image -> s)
    style_enc_down: int = 4
    aux_channels: tuple[str, ...] = ()   # ordered names from AUX_CHANNELS
    texture_channels: int = 0     # neural texture feature channels; 0 disables
    texture_size: int = 256       # finest atlas side (texels)
    texture_levels: int = 3       # Laplacian-style pyramid levels of the atlas
    depth_max: float = 0.3        # metres mapped to +1 (0 m -> -1), clipped
    input_skip: bool = True       # add a learned 1x1 colour map of the input to the output
    style_color: bool = False     # the style code also predicts a global 3x3 colour matrix +
                                  # bias applied to the output (white balance, light colour)
    padding_mode: str = "zeros"   # "zeros" | "reflect"
    style_stats: bool = False     # the first 6 entries of the style code are the wanted CIELAB
                                  # moments of the output (statistics-conditioned output stage;
                                  # the style encoder measures them on the reference)
    vignette: bool = False        # the style code also sets a radial darkening towards the
                                  # frame's rim (the scope's vignetting; never to black)
    head: str = "shuffle"         # full-resolution output: "shuffle" (12-channel conv at 1/2
                                  # resolution + PixelShuffle) | "bilinear" (3-channel conv at
                                  # 1/2 resolution, bilinear x2: no checkerboard)

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"GeneratorConfig.arch: expected one of {ARCHS}, got {self.arch!r}")
        for name in ("ngf", "n_down", "max_channels", "style_hidden", "style_enc_ngf"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"GeneratorConfig.{name}: expected >= 1, got {getattr(self, name)}")
        for name in ("n_res", "style_dim", "texture_channels"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"GeneratorConfig.{name}: expected >= 0, got {getattr(self, name)}")
        object.__setattr__(self, "aux_channels", tuple(self.aux_channels))
        unknown = [a for a in self.aux_channels if a not in AUX_CHANNELS]
        if unknown:
            raise ValueError(
                f"GeneratorConfig.aux_channels: unknown {unknown}, expected names from "
                f"{sorted(AUX_CHANNELS)}")
        if len(set(self.aux_channels)) != len(self.aux_channels):
            raise ValueError(f"GeneratorConfig.aux_channels: duplicate names in {self.aux_channels}")
        if self.texture_channels and "uv" not in self.aux_channels:
            raise ValueError("GeneratorConfig: texture_channels > 0 needs 'uv' in aux_channels")
        if not self.style_dim:  # no style code: nothing to grade with or condition on
            object.__setattr__(self, "style_color", False)
            object.__setattr__(self, "style_stats", False)
            object.__setattr__(self, "vignette", False)
        if self.arch == "resnet" and (self.style_dim or self.aux_channels):
            raise ValueError("GeneratorConfig: arch 'resnet' (CycleGAN) takes no style and no aux; "
                             f"got style_dim={self.style_dim}, aux_channels={self.aux_channels}")
        if self.padding_mode not in ("zeros", "reflect"):
            raise ValueError(f"GeneratorConfig.padding_mode: expected 'zeros' or 'reflect', "
                             f"got {self.padding_mode!r}")
        if self.head not in HEADS:
            raise ValueError(f"GeneratorConfig.head: expected one of {HEADS}, got {self.head!r}")
        if self.style_stats and self.style_dim < N_MOMENTS:
            raise ValueError(f"GeneratorConfig.style_stats needs style_dim >= {N_MOMENTS} (the "
                             f"colour moments come first), got style_dim={self.style_dim}")
        if self.depth_max <= 0:
            raise ValueError(f"GeneratorConfig.depth_max: expected > 0, got {self.depth_max}")

    @property
    def aux_dim(self) -> int:
        """Number of aux channels A the forward pass expects (0 = aux must be None)."""
        return sum(AUX_CHANNELS[a] for a in self.aux_channels)

    @property
    def size_multiple(self) -> int:
        """H and W of the input must be divisible by this."""
        return 2 ** self.n_down

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["aux_channels"] = list(self.aux_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"GeneratorConfig: unknown keys {unknown}; expected a subset of "
                             f"{sorted(names)}")
        return cls(**d)

    def replace(self, **changes: Any) -> GeneratorConfig:
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, GeneratorConfig] = {
    "tiny": GeneratorConfig(preset="tiny", ngf=8, n_down=2, n_res=1, max_channels=32,
                            style_dim=4, style_hidden=16, style_enc_ngf=8, style_enc_down=3,
                            style_color=True),
    "rt": GeneratorConfig(preset="rt", ngf=16, n_down=3, n_res=6, max_channels=64,
                          style_dim=8, style_hidden=64, style_enc_ngf=16, style_color=True),
    "base": GeneratorConfig(preset="base", ngf=48, n_down=3, n_res=6, max_channels=192,
                            style_dim=8, style_hidden=128, style_enc_ngf=32,
                            padding_mode="reflect", style_color=True),
    "cyclegan": GeneratorConfig(arch="resnet", preset="cyclegan", ngf=64, n_down=2, n_res=9,
                                max_channels=256, style_dim=0, input_skip=False,
                                padding_mode="reflect"),
}


def get_preset(name: str, **overrides: Any) -> GeneratorConfig:
    """Return the named preset, optionally with fields replaced.

    >>> get_preset("rt", style_dim=4).style_dim
    4
    """
    if name not in PRESETS:
        raise ValueError(f"unknown generator preset {name!r}; expected one of {sorted(PRESETS)}")
    return PRESETS[name].replace(**overrides) if overrides else PRESETS[name]
