"""The networks of a training run, as one typed record.

Symbols: G sim->real generator (the shipped one), E style encoder (real reference -> s),
F real->sim generator (cycle), D_real / D_sim PatchGAN discriminators of each domain,
T frozen teacher (distillation). Which of them a run has is the mode's declaration
(training/modes/); the trainer trains, checkpoints and wraps whatever is present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from sim2real_gan.models import GeneratorConfig
from torch import nn


@dataclass
class Nets:
    g_cfg: GeneratorConfig
    G: nn.Module
    E: nn.Module | None = None
    F: nn.Module | None = None
    D_real: nn.Module | None = None
    D_sim: nn.Module | None = None
    T: nn.Module | None = None

    def generator_side(self) -> dict[str, nn.Module]:
        """G, E, F (those present): one Adam optimiser, in this order."""
        named = {"G": self.G, "E": self.E, "F": self.F}
        return {k: m for k, m in named.items() if m is not None}

    def discriminator_side(self) -> dict[str, nn.Module]:
        """D_real, D_sim (those present): the second optimiser."""
        named = {"D_real": self.D_real, "D_sim": self.D_sim}
        return {k: m for k, m in named.items() if m is not None}

    def trainable(self) -> dict[str, nn.Module]:
        """Name -> module of every network that is trained (and checkpointed)."""
        return {**self.generator_side(), **self.discriminator_side()}

    def wrapped(self, wrap: Callable[[nn.Module], nn.Module]) -> Nets:
        """The same record with every trainable network passed through ``wrap`` (DDP);
        the frozen teacher is shared unwrapped."""
        def w(m: nn.Module | None) -> nn.Module | None:
            return None if m is None else wrap(m)

        return replace(self, G=wrap(self.G), E=w(self.E), F=w(self.F), D_real=w(self.D_real),
                       D_sim=w(self.D_sim))

    def place(self, device: torch.device, channels_last: bool) -> Nets:
        """Move the trainable networks to ``device`` (channels_last memory format if asked)."""
        for m in self.trainable().values():
            m.to(device)
            if channels_last:
                m.to(memory_format=torch.channels_last)
        return self


def resolve_generator_dir(path: str | Path) -> Path:
    """A generator checkpoint directory, or a run directory (-> its latest checkpoint)."""
    p = Path(path)
    if (p / "config.json").is_file():
        return p
    from .state import latest_checkpoint

    return latest_checkpoint(p)
