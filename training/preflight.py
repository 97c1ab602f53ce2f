"""Every recipe check that needs no expensive work, run before simulation, data caches,
segmenter training and the run folder: sources exist and hold what the mode needs, the
mode's optional parts are switched on or off for the data at hand (training/fields.py),
crops fit the frames and the networks' strides, mode-specific checks (teacher, inverse
generator, segmenter file). Bad recipes end here with one ValueError/FileNotFoundError.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .config import LossConfig, TrainConfig
from .fields import Available, require, resolve
from .modes.base import Mode
from .probe import SourceProbe, probe_source


@dataclass(frozen=True)
class Plan:
    """What preflight found: the probes and the notes to log (rank 0)."""

    sim: SourceProbe
    real: SourceProbe | None
    notes: list[str]


def _uses_real(cfg: TrainConfig, mode: Mode) -> bool:
    return mode.needs_real or any(f.wanted and f.real_fields for f in mode.features())


def check_crop(crop: list[int], multiples: list[int], probes: list[SourceProbe]) -> None:
    """Crop sides divisible by every stride in ``multiples`` and within every known frame."""
    for m in multiples:
        if crop[0] % m or crop[1] % m:
            raise ValueError(f"data.crop {list(crop)} must be divisible by the generator's "
                             f"size_multiple {m}")
    for p in probes:
        if p.size is not None and (crop[0] > p.size[0] or crop[1] > p.size[1]):
            raise ValueError(f"data.crop {list(crop)} is larger than the frames of {p.where} "
                             f"({p.size[0]}x{p.size[1]}); lower data.crop or set the source's "
                             "size")


def unused_losses(loss: LossConfig, keys: frozenset[str]) -> list[str]:
    """loss.* settings changed from their defaults that the mode does not read."""
    defaults = dataclasses.asdict(LossConfig())
    return [f"loss.{k}={v}" for k, v in dataclasses.asdict(loss).items()
            if k not in keys and v != defaults[k]]


def preflight(cfg: TrainConfig, mode: Mode, explicit: frozenset[str] = frozenset()) -> Plan:
    """Check the recipe and configure ``mode`` for the data; raises on a bad recipe."""
    if mode.needs_real and cfg.data.real is None:
        raise ValueError(f"mode {cfg.mode!r} needs data.real (real-domain frames)")
    sim = probe_source(cfg.data.sim, "sim")
    real = (probe_source(cfg.data.real, "real")
            if cfg.data.real is not None and _uses_real(cfg, mode) else None)
    require(mode, sim.fields, sim.where)
    have = Available(sim.fields, real.fields if real is not None else frozenset(), sim.where,
                     real.where if real is not None else "data.real is null")
    enabled, notes = resolve(mode, have, explicit)
    mode.configure(enabled)
    mode.check()
    check_crop(cfg.data.crop, mode.size_multiples(),
               [sim, *([real] if real is not None and mode.needs_real else [])])
    unused = unused_losses(cfg.loss, mode.loss_keys())
    if unused:
        notes.append(f"mode {cfg.mode} does not read {', '.join(unused)} (ignored)")
    return Plan(sim, real, notes)
