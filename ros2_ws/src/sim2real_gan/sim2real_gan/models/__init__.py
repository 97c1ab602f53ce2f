"""Networks shared by training and the PyTorch runtime backend.

Public API: :class:`GeneratorConfig`, :data:`PRESETS`, :func:`get_preset`,
:func:`build_generator`, :class:`StyleEncoder`, :class:`NeuralTexture`,
:class:`DiscriminatorConfig`, :func:`build_discriminator`,
:func:`save_generator` / :func:`load_generator`, :func:`count_params` / :func:`count_gmac`.
"""

from .checkpoint import load_generator, load_style_encoder, read_config, save_generator
from .config import AUX_CHANNELS, PRESETS, GeneratorConfig, get_preset
from .discriminators import DiscriminatorConfig, MultiScaleDiscriminator, build_discriminator
from .flops import count_gmac, count_params, generator_inputs
from .generators import GENERATORS, ResnetGenerator, StyleUNetGenerator, build_generator
from .style import MappingNetwork, StatsConditioning, StyleEncoder, build_style_encoder
from .texture import NeuralTexture

__all__ = [
    "AUX_CHANNELS", "GENERATORS", "PRESETS", "DiscriminatorConfig", "GeneratorConfig",
    "MappingNetwork", "MultiScaleDiscriminator", "NeuralTexture", "ResnetGenerator",
    "StatsConditioning", "StyleEncoder", "StyleUNetGenerator", "build_discriminator",
    "build_generator", "build_style_encoder",
    "count_gmac", "count_params", "generator_inputs", "get_preset", "load_generator",
    "load_style_encoder", "read_config", "save_generator",
]
