"""Frozen segmenter for the semantic-consistency loss (Pfeiffer et al. 2019).

``loss.segmenter`` picks the frozen network that the translation must still segment into
the sim labels:

- ``"auto-sim"`` trains the evaluation module's SmallUNet on the *sim* frames and their
  labels before GAN training starts (semantic consistency as in CyCADA: needs no labelled
  real frames, so it is the setting of a real sim-to-real project);
- ``"auto"`` trains it on labelled frames of the *real* domain (the simulator labels its
  real-style stream; a real bag needs a ``segmentation`` topic). Privileged: real footage
  rarely comes with labels;
- otherwise a ``.safetensors`` file with a SmallUNet state dict (metadata ``num_classes``,
  ``width``).

The wrapper takes images in [-1,1] and returns logits (B,K,H,W).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from sim2real_gan.eval.segmentation import SegmenterConfig, SmallUNet, train_segmenter
from torch import nn

from .data.sources import SourceConfig, build_source

if TYPE_CHECKING:
    from .config import DataConfig

log = logging.getLogger("sim2real_gan.train")
AUTO = ("auto", "auto-sim")


class Segmenter(nn.Module):
    """[-1,1] images -> logits; frozen."""

    def __init__(self, net: SmallUNet) -> None:
        super().__init__()
        self.net = net.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x + 1) * 0.5)


def load_segmenter(path: str | Path) -> Segmenter:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"loss.segmenter: {path} does not exist")
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    net = SmallUNet(int(meta.get("num_classes", 8)), int(meta.get("width", 16)))
    net.load_state_dict(load_file(str(path)))
    return Segmenter(net)


def train_auto_segmenter(source: SourceConfig, steps: int, seed: int = 0,
                         domain: str = "real", crop: int = 0,
                         progress: bool = False, jitter: float = 0.0) -> Segmenter:
    """Train a SmallUNet on the labelled frames of ``source`` (``domain``: "sim" | "real").

    ``crop`` smaller than the frames trains on random windows of that side in batches of 8
    (the scale the GAN crops show the loss, at a fraction of the cost: at 256x256 on one CPU
    core a whole-frame batch of 16 takes about 9 s a step); otherwise whole frames, 16.
    ``jitter`` > 0 adds two appearance-jittered copies of every frame (same labels;
    training/data/appearance.py at that strength, seeded): the segmenter then judges
    structure rather than colour, which the style code of a translator sets."""
    frames = [f.load() for s in build_source(source, domain, ("image", "labels")) for f in s]
    if not frames:
        raise ValueError(f"loss.segmenter: the {domain} source has no frames to train on")
    images = np.stack([f["image"] for f in frames])
    labels = np.stack([f["labels"] for f in frames])
    if jitter > 0:
        from .data.appearance import jitter_appearance

        rng = np.random.default_rng([seed, 17])
        copies = [np.stack([jitter_appearance(im, rng, jitter) for im in images]) for _ in range(2)]
        images = np.concatenate([images, *copies])
        labels = np.concatenate([labels] * 3)
    cfg = (SegmenterConfig(steps=steps, seed=seed, crop=crop, batch_size=8)
           if 0 < crop < max(images.shape[1:3]) else SegmenterConfig(steps=steps, seed=seed))
    net = train_segmenter(images, labels, cfg, progress=progress,
                          desc=f"segmenter for loss.semantic ({domain})")
    return Segmenter(net)


def check_segmenter(segmenter: str, real: SourceConfig | None) -> None:
    """Recipe check of ``loss.segmenter`` with the semantic loss on (no training, no I/O
    beyond a file test): raises ValueError / FileNotFoundError naming the problem."""
    if not segmenter:
        raise ValueError("loss.semantic > 0 needs loss.segmenter ('auto-sim', 'auto' or a "
                         ".safetensors SmallUNet)")
    if segmenter == "auto" and real is None:
        raise ValueError("loss.segmenter 'auto' trains on data.real, which is null")
    if segmenter not in AUTO and not Path(segmenter).is_file():
        raise FileNotFoundError(f"loss.segmenter: {segmenter} does not exist")


def segmenter_for(segmenter: str, steps: int, crop: int, data: DataConfig, seed: int,
                  progress: bool = False, jitter: float = 0.0) -> Segmenter:
    """The frozen segmenter ``loss.segmenter`` names: trained on the run's sim (``auto-sim``)
    or real (``auto``) frames and labels, or loaded from a .safetensors file."""
    check_segmenter(segmenter, data.real)
    if segmenter in AUTO:
        log.info("training the frozen segmenter of loss.semantic (%s, %d steps)", segmenter,
                 steps)
        src, domain = (data.sim, "sim") if segmenter == "auto-sim" else (data.real, "real")
        return train_auto_segmenter(src, steps, seed, domain=domain, crop=crop,
                                    progress=progress, jitter=jitter)
    return load_segmenter(segmenter)
