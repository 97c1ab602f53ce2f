"""What every training mode declares, and the small types the modes share.

A mode (one class per mode, registered in ``training.modes.MODES``) declares

- its networks (``build_nets``: which of G, E, F, D_real, D_sim, T it trains or uses),
- the data it reads: ``required_sim`` fields every step needs, and :class:`Feature` s,
  optional parts (a loss, a generator input) that read optional fields and are switched
  off with one log line when the data lack them,
- its losses with their named weights (a frozen dataclass built from ``LossConfig``),
- one generator step and one discriminator step.

The trainer (training/trainer.py) only drives: data, optimiser steps, EMA, checkpoints,
logging, DDP.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
from sim2real_gan.models import GeneratorConfig

from ..nets import Nets

if TYPE_CHECKING:
    from ..config import TrainConfig
    from ..data import TranslationDataset

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Feature:
    """An optional part of a mode.

    ``name`` identifies it (``"temporal"``); ``label`` is what the log line calls it
    ("temporal loss"); ``sim_fields`` / ``real_fields`` are the data fields it reads;
    ``keys`` the config keys that ask for it (set on the command line, a missing field is an
    error instead of a log line); ``wanted`` whether the config asks for it; ``blocked`` a
    reason it cannot work whatever the data ("" = none), e.g. an architecture without the
    features it reads.
    """

    name: str
    label: str
    sim_fields: tuple[str, ...] = ()
    real_fields: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    wanted: bool = True
    blocked: str = ""


class Terms:
    """Named generator losses and their weights; ``total()`` sums ``weight * value`` in the
    order the terms were added."""

    def __init__(self) -> None:
        self.values: dict[str, torch.Tensor] = {}
        self._weights: dict[str, float] = {}

    def add(self, name: str, weight: float, value: torch.Tensor) -> None:
        self.values[name] = value
        self._weights[name] = weight

    def total(self) -> torch.Tensor:
        total = None
        for name, v in self.values.items():
            term = self._weights[name] * v
            total = term if total is None else total + term
        if total is None:
            raise ValueError("no generator loss is on: every weight of this mode is 0")
        return total


def aux_features(g_cfg: GeneratorConfig) -> list[Feature]:
    """One feature per aux input of the generator (``uv`` feeds the neural texture)."""
    keys = ("generator.overrides.aux_channels", "generator.overrides.texture_channels")
    out = []
    for name in g_cfg.aux_channels:
        label = ("neural texture" if name == "uv" and g_cfg.texture_channels
                 else f"{name} input of the generator")
        out.append(Feature(name, label, sim_fields=(name,), keys=keys))
    return out


def without_aux(g_cfg: GeneratorConfig, keep: frozenset[str]) -> GeneratorConfig:
    """``g_cfg`` with the aux inputs not in ``keep`` removed (no uv: no neural texture), so
    the exported model asks only for what the data had."""
    aux = tuple(a for a in g_cfg.aux_channels if a in keep)
    if aux == g_cfg.aux_channels:
        return g_cfg
    return g_cfg.replace(aux_channels=aux,
                         texture_channels=g_cfg.texture_channels if "uv" in aux else 0)


class Mode(ABC):
    """Base of the training modes. Construct with the resolved config, call
    :meth:`configure` with the enabled feature names, then :meth:`build_nets`."""

    name: ClassVar[str]
    #: sim fields every step reads: a source without one is an error before training.
    required_sim: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.g_cfg: GeneratorConfig = cfg.generator.build_config()
        self.on: frozenset[str] = frozenset()

    # ---------------------------------------------------------------- declarations
    @property
    @abstractmethod
    def needs_real(self) -> bool:
        """Whether steps read real-domain frames (``batch["real"]``)."""

    @abstractmethod
    def loss_keys(self) -> frozenset[str]:
        """The ``loss.*`` keys this mode reads (the others are ignored)."""

    def features(self) -> list[Feature]:
        """Optional parts; the base declares the generator's aux inputs and data.labels."""
        return [*aux_features(self.g_cfg),
                Feature("labels", "label loading (data.labels)", sim_fields=("labels",),
                        keys=("data.labels",), wanted=self.cfg.data.labels)]

    def configure(self, enabled: frozenset[str]) -> None:
        """Switch on exactly the ``enabled`` features (drops missing aux inputs from G)."""
        self.on = enabled
        self.g_cfg = without_aux(self.g_cfg, enabled)

    def sim_fields(self) -> tuple[str, ...]:
        """Sim fields to load: the required ones and those of the enabled features."""
        fields = list(self.required_sim)
        for f in self.features():
            if f.name in self.on:
                fields += f.sim_fields
        return tuple(dict.fromkeys(fields))

    def check(self) -> None:  # noqa: B027 - optional hook, most modes need no check
        """Mode-specific recipe checks that need no data (raise ValueError); cheap."""

    def size_multiples(self) -> list[int]:
        """Every crop side must be divisible by each of these (the networks' strides)."""
        return [self.g_cfg.size_multiple]

    # ---------------------------------------------------------------- networks and steps
    @abstractmethod
    def build_nets(self, device: torch.device) -> Nets:
        """Randomly initialised networks (seeded with ``cfg.seed``: the same on every rank)."""

    def prepare(self, nets: Nets, data: TranslationDataset) -> None:  # noqa: B027 - optional
        """Fit data-dependent constants of freshly built networks (before the EMA copy and
        any resume, which restores the same values); most modes have none."""

    def segmenter(self, device: torch.device, progress: bool) -> torch.nn.Module | None:
        """The frozen segmenter of the semantic loss, or None when the mode has none."""
        return None

    @abstractmethod
    def g_step(self, w: Nets, batch: Batch, gen: torch.Generator,
               segmenter: torch.nn.Module | None) -> tuple[Terms, dict[str, torch.Tensor]]:
        """Generator losses (``w``: the networks as the trainer calls them, DDP-wrapped when
        distributed) -> (terms, fakes and images for the D step and the image grid)."""

    @abstractmethod
    def d_step(self, w: Nets, batch: Batch, fakes: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
        """Discriminator losses on detached fakes (unweighted; summed by the trainer)."""
