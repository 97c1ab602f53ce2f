"""Small U-Net segmenter, its deterministic training, and IoU scoring.

Used twice by the protocol: label preservation (a segmenter trained on real-style
frames scores translated sim frames against the sim labels) and downstream
benefit (a segmenter trained on translated sim frames is tested on real frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

from sim2real_gan.artifact.pixels import check_frames

__all__ = ["SegmenterConfig", "SmallUNet", "train_segmenter", "predict", "confusion_matrix",
           "IoUScore", "iou_from_confusion", "score_segmentation"]


@dataclass(frozen=True)
class SegmenterConfig:
    """Segmenter size and training budget (all training is seeded and deterministic)."""

    num_classes: int = 8
    width: int = 16
    steps: int = 300
    batch_size: int = 16
    lr: float = 3e-3
    seed: int = 0
    hflip: bool = True
    crop: int = 0           # train on random crop x crop windows (0: whole frames)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(4, cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(4, cout), nn.ReLU(inplace=True))


class SmallUNet(nn.Module):
    """Two-level U-Net. (B,3,H,W) in [0,1] -> (B,num_classes,H,W) logits; H,W multiples of 4."""

    def __init__(self, num_classes: int = 8, width: int = 16) -> None:
        super().__init__()
        w = width
        self.enc1, self.enc2, self.mid = _block(3, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), _block(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _block(2 * w, w)
        self.head = nn.Conv2d(w, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"SmallUNet: expected (B,3,H,W) with H,W multiples of 4, got "
                             f"{tuple(x.shape)}")
        e1 = self.enc1(x * 2.0 - 1.0)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


def _check_pairs(images: np.ndarray, labels: np.ndarray, num_classes: int) -> None:
    check_frames(images, "images", batched=True)
    if labels.shape != images.shape[:3]:
        raise ValueError(f"labels: expected {images.shape[:3]} to match images, got {labels.shape}")
    if labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"labels: class id {int(labels.max())} >= num_classes {num_classes}")


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


def train_segmenter(images: np.ndarray, labels: np.ndarray, cfg: SegmenterConfig,
                    progress: bool = False, desc: str = "segmenter") -> SmallUNet:
    """Train a SmallUNet on (images (N,H,W,3) uint8, labels (N,H,W) class ids).

    Seeded (``cfg.seed``): the same data and config give the same weights on one machine.
    """
    _check_pairs(images, labels, cfg.num_classes)
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = SmallUNet(cfg.num_classes, cfg.width)
    x_all, y_all = _to_tensor(images), torch.from_numpy(labels.astype(np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.steps, 1))
    model.train()
    for _ in tqdm(range(cfg.steps), desc=desc, disable=not progress, leave=False):
        idx = torch.randint(0, x_all.shape[0], (min(cfg.batch_size, x_all.shape[0]),), generator=gen)
        x, y = x_all[idx], y_all[idx]
        if 0 < cfg.crop < max(x.shape[-2:]):
            c_h, c_w = min(cfg.crop, x.shape[-2]), min(cfg.crop, x.shape[-1])
            i = int(torch.randint(0, x.shape[-2] - c_h + 1, (), generator=gen))
            j = int(torch.randint(0, x.shape[-1] - c_w + 1, (), generator=gen))
            x, y = x[..., i:i + c_h, j:j + c_w], y[..., i:i + c_h, j:j + c_w]
        if cfg.hflip and bool(torch.rand((), generator=gen) < 0.5):
            x, y = x.flip(-1), y.flip(-1)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return model.eval()


@torch.no_grad()
def predict(model: SmallUNet, images: np.ndarray, batch: int = 32) -> np.ndarray:
    """(N,H,W,3) uint8 -> (N,H,W) uint8 predicted class ids."""
    check_frames(images, "images", batched=True)
    model.eval()
    out = [model(_to_tensor(images[i:i + batch])).argmax(1).to(torch.uint8)
           for i in range(0, images.shape[0], batch)]
    return torch.cat(out).numpy()


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """(C,C) int64 counts, rows = target class, columns = predicted class."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {pred.shape} and target {target.shape} differ in shape")
    t = target.astype(np.int64).ravel()
    p = pred.astype(np.int64).ravel()
    if t.size and (t.max() >= num_classes or p.max() >= num_classes):
        raise ValueError(f"class id >= num_classes {num_classes}")
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes,
                                                                              num_classes)


@dataclass(frozen=True)
class IoUScore:
    """mIoU over classes present (in target or prediction); per_class has NaN for absent."""

    miou: float
    per_class: list[float]
    pixel_accuracy: float


def iou_from_confusion(cm: np.ndarray) -> IoUScore:
    """IoU_c = TP / (TP + FP + FN) per class; classes with zero union are NaN and skipped."""
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
    total = cm.sum()
    return IoUScore(miou=float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan"),
                    per_class=[float(v) for v in iou],
                    pixel_accuracy=float(tp.sum() / total) if total else float("nan"))


def score_segmentation(pred: np.ndarray, target: np.ndarray, num_classes: int = 8) -> IoUScore:
    """mIoU of predicted vs target label maps (N,H,W), accumulated over the whole set."""
    return iou_from_confusion(confusion_matrix(pred, target, num_classes))
