"""Training modes as types: ``MODES[cfg.mode](cfg)`` declares the run's networks, data
fields, losses and named weights (training/modes/base.py says what each declares)."""

from .base import Feature, Mode, Terms
from .cyclegan import CycleGANMode
from .distill import DistillMode
from .pix2pix import Pix2PixMode
from .sim2real import Sim2RealMode

#: Explicit registry: config ``mode`` -> class (each class's ``name``).
MODES: dict[str, type[Mode]] = {m.name: m for m in (
    Sim2RealMode, CycleGANMode, Pix2PixMode, DistillMode)}

__all__ = ["MODES", "CycleGANMode", "DistillMode", "Feature", "Mode", "Pix2PixMode",
           "Sim2RealMode", "Terms"]
