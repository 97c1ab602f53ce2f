"""The networks each training mode needs.

Symbols: G sim->real generator (the shipped one), E style encoder (real reference -> s),
F real->sim generator (cycle), D_real / D_sim PatchGAN discriminators of each domain,
T frozen teacher (distillation).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch
from sim2real_gan.models import (
    GeneratorConfig,
    StyleEncoder,
    build_discriminator,
    build_generator,
    load_generator,
)
from torch import nn

from .config import TrainConfig


@dataclass
class Nets:
    g_cfg: GeneratorConfig
    G: nn.Module
    E: nn.Module | None = None
    F: nn.Module | None = None
    D_real: nn.Module | None = None
    D_sim: nn.Module | None = None
    T: nn.Module | None = None

    def trainable(self) -> dict[str, nn.Module]:
        """Name -> module of every network that is trained (and checkpointed)."""
        return {k: getattr(self, k) for k in ("G", "E", "F", "D_real", "D_sim")
                if getattr(self, k) is not None}

    @property
    def generator_side(self) -> list[str]:
        return [k for k in ("G", "E", "F") if getattr(self, k) is not None]

    @property
    def discriminator_side(self) -> list[str]:
        return [k for k in ("D_real", "D_sim") if getattr(self, k) is not None]


def build_nets(cfg: TrainConfig, device: torch.device) -> Nets:
    """Randomly initialised networks for ``cfg.mode`` (same init on every rank: seeded)."""
    torch.manual_seed(cfg.seed)
    g_cfg = cfg.generator.build_config()
    nets = Nets(g_cfg=g_cfg, G=build_generator(g_cfg))
    loss, mode = cfg.loss, cfg.mode
    if mode == "sim2real" and g_cfg.style_dim:
        nets.E = StyleEncoder(g_cfg.style_dim, g_cfg.style_enc_ngf, g_cfg.style_enc_down)
    if mode == "cyclegan" or (mode == "sim2real" and loss.cycle > 0):
        f_cfg = cfg.inverse.build_config()
        if f_cfg.style_dim or f_cfg.aux_channels:
            raise ValueError("inverse (real->sim) generator must have style_dim 0 and no aux; "
                             f"got style_dim={f_cfg.style_dim}, aux={f_cfg.aux_channels}")
        nets.F = build_generator(f_cfg)
        nets.D_sim = build_discriminator(cfg.discriminator)
    if mode in ("cyclegan", "sim2real") or (mode == "distill" and loss.adv > 0):
        nets.D_real = build_discriminator(cfg.discriminator)
    if mode == "pix2pix":
        nets.D_real = build_discriminator(replace(cfg.discriminator, in_channels=6))
    if mode == "distill":
        teacher, t_cfg = load_generator(resolve_generator_dir(cfg.teacher), device)
        if (t_cfg.style_dim, t_cfg.aux_channels) != (g_cfg.style_dim, g_cfg.aux_channels):
            raise ValueError(f"distill: teacher takes style_dim={t_cfg.style_dim}, "
                             f"aux={t_cfg.aux_channels}; student takes "
                             f"style_dim={g_cfg.style_dim}, aux={g_cfg.aux_channels}")
        nets.T = teacher.requires_grad_(False)
    for name, m in nets.trainable().items():
        m.to(device)
        if cfg.channels_last:
            m.to(memory_format=torch.channels_last)
        setattr(nets, name, m)
    return nets


def resolve_generator_dir(path: str | Path) -> Path:
    """A generator checkpoint directory, or a run directory (-> its latest checkpoint)."""
    p = Path(path)
    if (p / "config.json").is_file():
        return p
    from .state import latest_checkpoint

    return latest_checkpoint(p)


def sim_fields(cfg: TrainConfig, g_cfg: GeneratorConfig) -> tuple[str, ...]:
    """Which per-frame fields the sim source must provide for this run."""
    fields = ["image"]
    if cfg.mode in ("sim2real", "distill"):
        fields += ["flow", "valid"]
    fields += list(g_cfg.aux_channels)
    if cfg.data.labels or cfg.loss.semantic > 0:
        fields.append("labels")
    if cfg.mode == "pix2pix":
        fields.append("target")
    return tuple(dict.fromkeys(fields))


def needs_real(cfg: TrainConfig) -> bool:
    return cfg.mode in ("cyclegan", "sim2real") or (cfg.mode == "distill" and cfg.loss.adv > 0)
