"""In-project feature network for KID/FID, trained on the real domain.

Inception weights cannot be downloaded here, so realism is measured in the feature
space of a small CNN trained on labelled real-style frames to predict their class
content (the fraction of pixels of each class). Its features are the per-channel
mean and standard deviation of two intermediate layers (so colour, texture and
content all move them), standardised with the real training set's statistics
(real frames have features of mean 0 and variance 1 per dimension).

Footage without labels (own-data evaluation) trains the same network on a self-supervised
task instead (:func:`train_footage_feature_net`): which of four rotations (0, 90, 180, 270
degrees; Gidaris et al. 2018) was applied to a frame. The frames are masked with the
footage's content mask made rotation-symmetric (the mask and its three rotations
intersected), so the black surround and masked text cannot give the answer away. Its
features are centred on the footage's mean and divided by one common scale (the root mean
per-dimension variance over the footage) rather than per dimension: footage from one
recording varies little in some dimensions, and dividing by their tiny spread would let
them dominate every distance.

Training is seeded and takes seconds on a CPU; weights are cached on disk under a
key made of the config and a hash of the training data.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from sim2real_gan.artifact.pixels import check_frames

__all__ = ["FeatureNetConfig", "RealFeatureNet", "train_feature_net", "load_or_train_feature_net",
           "train_footage_feature_net", "default_cache_dir", "ROTATIONS"]

ROTATIONS = 4  # classes of the footage pretext task: k * 90 degrees


@dataclass(frozen=True)
class FeatureNetConfig:
    """Feature network size and training budget."""

    num_classes: int = 8
    width: int = 16
    input_size: int = 64          # frames are resized to input_size x input_size
    steps: int = 300
    batch_size: int = 32
    lr: float = 2e-3
    seed: int = 0


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(4, cout),
                         nn.LeakyReLU(0.2, inplace=True))


class RealFeatureNet(nn.Module):
    """(N,3,H,W) float in [0,1] -> (N, num_features) standardised features.

    ``num_features`` = 2 * (2w + 8w) (mean and std of layer-2 and layer-4 channels).
    """

    def __init__(self, cfg: FeatureNetConfig) -> None:
        super().__init__()
        w = cfg.width
        self.input_size = cfg.input_size
        self.l1, self.l2, self.l3, self.l4 = _conv(3, w), _conv(w, 2 * w), _conv(2 * w, 4 * w), \
            _conv(4 * w, 8 * w)
        self.head = nn.Linear(8 * w, cfg.num_classes)
        self.num_features = 2 * (2 * w + 8 * w)
        self.register_buffer("feat_mean", torch.zeros(self.num_features))
        self.register_buffer("feat_std", torch.ones(self.num_features))

    def _trunk(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"RealFeatureNet: expected (N,3,H,W) in [0,1], got {tuple(x.shape)}")
        x = x.float()
        if x.shape[-2:] != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False, antialias=True)
        a2 = self.l2(self.l1(x * 2.0 - 1.0))
        a4 = self.l4(self.l3(a2))
        return a2, a4

    def raw_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unstandardised (N, num_features) features."""
        a2, a4 = self._trunk(x)
        parts = [a2.mean((2, 3)), a2.std((2, 3)), a4.mean((2, 3)), a4.std((2, 3))]
        return torch.cat(parts, dim=1)

    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, num_classes) logits of the class-content task used for training."""
        return self.head(self._trunk(x)[1].mean((2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.raw_features(x) - self.feat_mean) / self.feat_std


def _class_fractions(labels: np.ndarray, num_classes: int) -> torch.Tensor:
    """(N,H,W) ids -> (N,num_classes) fraction of pixels of each class."""
    flat = torch.from_numpy(labels.reshape(labels.shape[0], -1).astype(np.int64))
    counts = torch.zeros(flat.shape[0], num_classes).scatter_add_(1, flat, torch.ones_like(
        flat, dtype=torch.float32))
    return counts / flat.shape[1]


def _images_tensor(images: np.ndarray) -> torch.Tensor:
    check_frames(images, "images", batched=True)
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


def _seeded_training(cfg: FeatureNetConfig
                     ) -> tuple[RealFeatureNet, torch.optim.Optimizer, torch.Generator]:
    """A freshly seeded net in train mode, its Adam optimiser and the batch generator: the same
    seed gives the same network and batches without touching the global RNG."""
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        net = RealFeatureNet(cfg)
    net.train()
    return net, torch.optim.Adam(net.parameters(), lr=cfg.lr), gen


def train_feature_net(images: np.ndarray, labels: np.ndarray, cfg: FeatureNetConfig,
                      progress: bool = False) -> RealFeatureNet:
    """Train on real-style frames (N,H,W,3) uint8 with labels (N,H,W); seeded."""
    if labels.shape != images.shape[:3]:
        raise ValueError(f"labels: expected shape {images.shape[:3]}, got {labels.shape}")
    if images.shape[0] < 2:
        raise ValueError(f"need at least 2 real frames to train the feature net, got {images.shape[0]}")
    x_all = _images_tensor(images)
    target = _class_fractions(labels, cfg.num_classes)
    net, opt, gen = _seeded_training(cfg)
    for _ in tqdm(range(cfg.steps), desc="feature net", disable=not progress, leave=False):
        idx = torch.randint(0, x_all.shape[0], (min(cfg.batch_size, x_all.shape[0]),), generator=gen)
        logp = F.log_softmax(net.class_logits(x_all[idx]), dim=1)
        loss = -(target[idx] * logp).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return _standardise(net, x_all)


def _standardise(net: RealFeatureNet, x_all: torch.Tensor, per_dim: bool = True
                 ) -> RealFeatureNet:
    """Eval mode; features centred and scaled with the statistics of ``x_all`` (N,3,H,W):
    per dimension, or with one common scale (``per_dim=False``, module docstring)."""
    net.eval()
    with torch.no_grad():
        feats = torch.cat([net.raw_features(x_all[i:i + 64]) for i in range(0, len(x_all), 64)])
        net.feat_mean.copy_(feats.mean(0))
        std = feats.std(0) if per_dim else feats.var(0).mean().sqrt().expand(feats.shape[1])
        net.feat_std.copy_(std.clamp_min(1e-6))
    return net


def _symmetric_mask(mask: np.ndarray, size: int) -> torch.Tensor:
    """bool (H,W) -> float (1,1,size,size): the mask at size x size, intersected with its
    rotations by 90, 180 and 270 degrees."""
    m = torch.from_numpy(np.ascontiguousarray(mask, dtype=np.float32))[None, None]
    m = (F.interpolate(m, size=(size, size), mode="area") > 0.5).float()
    for k in range(1, ROTATIONS):
        m = m * torch.rot90(m, k, dims=(2, 3))
    return m


def train_footage_feature_net(images: np.ndarray, mask: np.ndarray, cfg: FeatureNetConfig,
                              progress: bool = False) -> RealFeatureNet:
    """Train on unlabelled footage frames (N,H,W,3) uint8 with content mask (H,W) bool by
    rotation prediction (module docstring); ``cfg.num_classes`` must be :data:`ROTATIONS`."""
    check_frames(images, "images", batched=True)
    if cfg.num_classes != ROTATIONS:
        raise ValueError(f"footage feature net: num_classes must be {ROTATIONS} (rotations), "
                         f"got {cfg.num_classes}")
    if mask.shape != images.shape[1:3] or images.shape[0] < 2:
        raise ValueError(f"footage feature net: expected >= 2 frames and a mask of their size "
                         f"{images.shape[1:3]}, got {images.shape[0]} frames, mask {mask.shape}")
    s = cfg.input_size
    x_all = _images_tensor(images)
    small = F.interpolate(x_all, size=(s, s), mode="bilinear", align_corners=False,
                          antialias=True) * _symmetric_mask(mask, s)
    net, opt, gen = _seeded_training(cfg)
    for _ in tqdm(range(cfg.steps), desc="feature net (footage)", disable=not progress,
                  leave=False):
        idx = torch.randint(0, len(small), (min(cfg.batch_size, len(small)),), generator=gen)
        k = torch.randint(0, ROTATIONS, (len(idx),), generator=gen)
        x = torch.stack([torch.rot90(small[i], int(r), dims=(1, 2))
                         for i, r in zip(idx, k, strict=True)])
        loss = F.cross_entropy(net.class_logits(x), k)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return _standardise(net, x_all, per_dim=False)


def default_cache_dir() -> Path:
    """``$SIM2REAL_GAN_CACHE`` or ``$XDG_CACHE_HOME/sim2real_gan`` or ``~/.cache/sim2real_gan``."""
    if os.environ.get("SIM2REAL_GAN_CACHE"):
        return Path(os.environ["SIM2REAL_GAN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sim2real_gan"


def _cache_key(images: np.ndarray, labels: np.ndarray | None, cfg: FeatureNetConfig,
               mask: np.ndarray | None = None) -> str:
    h = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode())
    h.update(str(images.shape).encode())
    h.update(np.ascontiguousarray(images).tobytes())
    if labels is not None:
        h.update(np.ascontiguousarray(labels).tobytes())
    else:  # footage: the rotation task and its mask
        h.update(b"rotation, one common scale")
        h.update(np.ascontiguousarray(mask, dtype=bool).tobytes())
    return h.hexdigest()[:16]


def load_or_train_feature_net(images: np.ndarray, labels: np.ndarray | None,
                              cfg: FeatureNetConfig, cache_dir: Path | None = None,
                              progress: bool = False, mask: np.ndarray | None = None
                              ) -> tuple[RealFeatureNet, Path]:
    """Return the cached network for (data, cfg) or train and cache it (atomic write).

    With ``labels`` (N,H,W): the class-content task (:func:`train_feature_net`); with
    ``labels=None`` and a content ``mask`` (H,W): the footage rotation task
    (:func:`train_footage_feature_net`).
    """
    from safetensors.torch import load_file, save_file

    if labels is None and mask is None:
        raise ValueError("load_or_train_feature_net: give labels, or a mask for unlabelled footage")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache_dir / "eval" / f"featnet-{_cache_key(images, labels, cfg, mask)}.safetensors"
    if path.is_file():
        net = RealFeatureNet(cfg)
        net.load_state_dict(load_file(str(path)))
        return net.eval(), path
    net = (train_feature_net(images, labels, cfg, progress=progress) if labels is not None
           else train_footage_feature_net(images, mask, cfg, progress=progress))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return net, path
