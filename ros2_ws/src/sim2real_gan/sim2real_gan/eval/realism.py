"""Realism: KID (torchmetrics) and FID in a given feature space, and a domain classifier.

torchmetrics accepts any ``nn.Module`` returning (N,d) features as ``feature=`` and then
needs no torch-fidelity (which would pull a second, CUDA torch and torchvision). The
in-project feature space is :class:`sim2real_gan.eval.features.RealFeatureNet`; the
standard Inception-v3 space is available from a local TorchScript file
(:func:`load_inception`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchmetrics.image.kid import KernelInceptionDistance
from tqdm import tqdm

from sim2real_gan.artifact.pixels import check_frames

__all__ = ["frechet_distance", "RealismScore", "RealismScorer", "InceptionFeatures", "load_inception",
           "DomainClassifierConfig", "domain_classifier_accuracy"]


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N,H,W,3) uint8 -> (N,3,H,W) float in [0,1]."""
    check_frames(images, "images", batched=True)
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """FID between two feature sets (N1,d) and (N2,d) (Gaussian fits, unbiased covariances).

    |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)), with the last trace computed
    exactly as the nuclear norm of A_a A_b^T (S = A^T A, A = centred features / sqrt(N-1)):
    the non-zero eigenvalues of S_a S_b are the squared singular values of A_a A_b^T. This
    equals torchmetrics' value (tested) but avoids its general d x d eigendecomposition
    (about 40 s at d=2048 on a 2-core machine, milliseconds here).
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance: expected (N1,d) and (N2,d) with N >= 2, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca = (a - mu_a) / (len(a) - 1) ** 0.5
    cb = (b - mu_b) / (len(b) - 1) ** 0.5
    if min(len(a), len(b)) <= a.shape[1]:
        cross = torch.linalg.svdvals(ca @ cb.T).sum()
    else:  # more samples than dimensions: symmetric form tr sqrt(S_a^1/2 S_b S_a^1/2)
        sa, sb = ca.T @ ca, cb.T @ cb
        w, v = torch.linalg.eigh(sa)
        root = (v * w.clamp_min(0).sqrt()) @ v.T
        cross = torch.linalg.eigvalsh(root @ sb @ root).clamp_min(0).sqrt().sum()
    value = (mu_a - mu_b).square().sum() + ca.square().sum() + cb.square().sum() - 2 * cross
    return float(value)


class _Precomputed(nn.Module):
    """Identity "feature extractor": features are extracted once by the scorer and fed to
    torchmetrics' public ``update`` as if they were images."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return feats


@dataclass(frozen=True)
class RealismScore:
    """KID (mean and std over subsets) and FID of a frame set against the real reference."""

    kid: float
    kid_std: float
    fid: float


class RealismScorer:
    """KID/FID of frame sets against a fixed real reference set.

    Real features are extracted once (``reset_real_features=False``) and reused for every
    scored set. KID subsets are drawn from a seeded generator, so scores are repeatable.

    Args:
        feature: module mapping (N,3,H,W) float in [0,1] to (N,d); must expose ``num_features``.
        real_images: (N,H,W,3) uint8 reference frames, N >= 2.
        subsets, subset_size: KID subsampling (subset_size is clipped to half of the smaller
            set, so that the subsets differ and ``kid_std`` reflects sampling spread).
    """

    def __init__(self, feature: nn.Module, real_images: np.ndarray, subsets: int = 50,
                 subset_size: int = 100, seed: int = 0, batch: int = 64) -> None:
        num = getattr(feature, "num_features", None)
        if not isinstance(num, int) or num < 1:
            raise ValueError("feature network must expose an integer `num_features` attribute")
        if len(real_images) < 2:
            raise ValueError(f"need at least 2 real reference frames, got {len(real_images)}")
        self.feature = feature.eval()
        self.num_features = num
        self.subsets, self.subset_size, self.seed, self.batch = subsets, subset_size, seed, batch
        self._real = self.features(real_images)

    @torch.no_grad()
    def features(self, images: np.ndarray) -> torch.Tensor:
        """(N,H,W,3) uint8 -> (N, num_features) float64 features."""
        x = _to_tensor(images)
        out = [self.feature(x[i:i + self.batch]) for i in range(0, len(x), self.batch)]
        feats = torch.cat(out).double()
        if feats.shape != (len(x), self.num_features):
            raise ValueError(f"feature network returned {tuple(feats.shape)}, expected "
                             f"({len(x)}, {self.num_features})")
        return feats

    def score(self, images: np.ndarray) -> RealismScore:
        """Score (N,H,W,3) uint8 frames (N >= 2) against the real reference."""
        if len(images) < 2:
            raise ValueError(f"need at least 2 frames to score realism, got {len(images)}")
        fake = self.features(images)
        # Subsets of at most half of each set, so they differ and kid_std means something.
        size = max(2, min(self.subset_size, len(self._real) // 2, len(fake) // 2))
        with warnings.catch_warnings():  # "will save all extracted features": intended here
            warnings.simplefilter("ignore", UserWarning)
            kid = KernelInceptionDistance(feature=_Precomputed(self.num_features),
                                          subsets=self.subsets, subset_size=size)
        kid.update(self._real, real=True)
        kid.update(fake, real=False)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            kid_mean, kid_std = kid.compute()
        return RealismScore(kid=float(kid_mean), kid_std=float(kid_std),
                            fid=frechet_distance(self._real, fake))


class InceptionFeatures(nn.Module):
    """Inception-v3 pool features (N,2048) from a TorchScript file.

    The file format is the one used by StyleGAN2-ADA and clean-fid
    (``inception-2015-12-05.pt``): ``forward(x, return_features=True)`` with x float
    (N,3,H,W) in [0,255]; the module resizes to 299x299 itself.
    """

    num_features = 2048

    def __init__(self, scripted: torch.jit.ScriptModule) -> None:
        super().__init__()
        self.model = scripted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x.float() * 255.0, return_features=True)
        if out.ndim != 2:
            raise ValueError(f"Inception file returned features of shape {tuple(out.shape)}, "
                             "expected (N,2048)")
        return out


def load_inception(path: str | Path) -> InceptionFeatures:
    """Load a local Inception TorchScript file (no download; see :class:`InceptionFeatures`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Inception weights file not found: {path}")
    try:
        with warnings.catch_warnings():  # torch.jit is deprecated; it is still this file's format
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.load(str(path), map_location="cpu")
    except RuntimeError as exc:
        raise ValueError(f"{path} is not a TorchScript Inception file "
                         f"(expected inception-2015-12-05.pt format): {exc}") from exc
    return InceptionFeatures(scripted.eval())


@dataclass(frozen=True)
class DomainClassifierConfig:
    """Real-vs-translated classifier budget; frames are resized to ``input_size``."""

    width: int = 16
    input_size: int = 64
    steps: int = 200
    batch_size: int = 32
    lr: float = 2e-3
    seed: int = 0


def _classifier(width: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    cin = 3
    for cout in (width, 2 * width, 4 * width, 4 * width):
        layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GroupNorm(4, cout),
                   nn.LeakyReLU(0.2, inplace=True)]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1))


def domain_classifier_accuracy(real: np.ndarray, fake: np.ndarray, cfg: DomainClassifierConfig,
                               progress: bool = False) -> float:
    """Held-out accuracy of a CNN told to separate ``real`` from ``fake`` frames.

    Each set (N,H,W,3) uint8, ordered by sequence, is split into a first half (training)
    and a second half (test), so test frames come from sequences not seen in training
    when each set holds whole sequences. 0.5 means indistinguishable, 1.0 trivially separable.
    """
    if len(real) < 4 or len(fake) < 4:
        raise ValueError(f"need at least 4 frames per set, got {len(real)} real, {len(fake)} fake")
    size = (cfg.input_size, cfg.input_size)

    def prep(images: np.ndarray) -> torch.Tensor:
        x = _to_tensor(images)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)

    xr, xf = prep(real), prep(fake)
    hr, hf = len(xr) // 2, len(xf) // 2
    x_tr = torch.cat([xr[:hr], xf[:hf]])
    y_tr = torch.cat([torch.ones(hr), torch.zeros(hf)])
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        net = _classifier(cfg.width)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    for _ in tqdm(range(cfg.steps), desc="domain classifier", disable=not progress, leave=False):
        idx = torch.randint(0, len(x_tr), (min(cfg.batch_size, len(x_tr)),), generator=gen)
        loss = F.binary_cross_entropy_with_logits(net(x_tr[idx] * 2 - 1).squeeze(1), y_tr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        acc_r = (net(xr[hr:] * 2 - 1).squeeze(1) > 0).float().mean()
        acc_f = (net(xf[hf:] * 2 - 1).squeeze(1) <= 0).float().mean()
    return float((acc_r + acc_f) / 2)  # balanced accuracy
