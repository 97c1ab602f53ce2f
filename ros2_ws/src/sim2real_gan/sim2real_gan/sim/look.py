"""Per-sequence parameters of the ``real`` appearance, drawn once from the sequence's seed.

What is drawn here is how a particular scope, camera and tissue look in one recording
(colour cast, exposure target, noise level, size of the field stop, ...); the switches that
turn effects on and off are ``config.RealLookConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RealLook:
    """Camera, optics and tissue parameters of one sequence.

    exposure: gain without auto-exposure; ae_target: mean linear brightness auto-exposure
    aims at; fall_ref: light fall-off reference distance (m); ks, sharpness: specular strength
    and the share of the sharper lobe; haze, haze_color: scattering in the insufflated
    cavity; vignette, vignette_power: darkening at the rim (1 - vignette * r**power);
    stop_radius: field-stop radius (x half the shorter image side); stop_center: its centre
    offset (x the shorter side); blur_sigma (px at 256 px width); noise_sigma (display
    levels); gains: RGB colour cast; gamma: display gamma; wet: specular wetness floor;
    variant: which shared detail texture the sequence uses.
    """

    exposure: float
    ae_target: float
    fall_ref: float
    ks: float
    sharpness: float
    haze: float
    haze_color: tuple[float, float, float]
    vignette: float
    vignette_power: float
    stop_radius: float
    stop_center: tuple[float, float]
    blur_sigma: float
    noise_sigma: float
    gains: tuple[float, float, float]
    gamma: float
    wet: float
    variant: int

    @classmethod
    def draw(cls, rng: np.random.Generator) -> RealLook:
        """Draw a look (always the same number of draws, whatever the switches)."""
        gains = rng.uniform([0.97, 0.8, 0.72], [1.1, 0.95, 0.9])
        return cls(
            exposure=float(rng.uniform(1.6, 2.8)), ae_target=float(rng.uniform(0.12, 0.2)),
            fall_ref=float(rng.uniform(0.075, 0.1)), ks=float(rng.uniform(1.2, 2.6)),
            sharpness=float(rng.uniform(0, 1)), haze=float(rng.uniform(0.0, 0.06)),
            haze_color=tuple(float(v) for v in rng.uniform([0.5, 0.3, 0.3], [0.8, 0.5, 0.5])),
            vignette=float(rng.uniform(0.7, 0.95)),
            vignette_power=float(rng.uniform(1.6, 2.6)),
            stop_radius=float(rng.uniform(0.98, 1.16)),
            stop_center=tuple(float(v) for v in rng.uniform(-0.015, 0.015, 2)),
            blur_sigma=float(rng.uniform(0.35, 0.9)), noise_sigma=float(rng.uniform(0.8, 2.4)),
            gains=tuple(float(g) for g in gains / gains.max()),
            gamma=float(rng.uniform(1.9, 2.4)), wet=float(rng.uniform(0.45, 0.75)),
            variant=int(rng.integers(0, 1 << 16)),
        )
