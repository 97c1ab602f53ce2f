"""Learning-rate schedules as multiplicative factors of the base rate."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "linear", "cosine")


def lr_factor(step: int, total: int, schedule: str, decay_start: float = 0.5,
              warmup: int = 0) -> float:
    """Factor at ``step`` (0-based): linear warm-up, then constant / linear decay to 0 after
    ``decay_start * total`` (CycleGAN) / cosine to 0."""
    if schedule not in SCHEDULES:
        raise ValueError(f"optim.schedule: expected one of {SCHEDULES}, got {schedule!r}")
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        t = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    start = int(decay_start * total)
    if step < start:
        return 1.0
    return max(0.0, 1 - (step - start) / max(1, total - start))
