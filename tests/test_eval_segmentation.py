"""Segmenter, IoU scoring and SSIM on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sim2real_gan.eval.segmentation import (
    SegmenterConfig,
    SmallUNet,
    confusion_matrix,
    iou_from_confusion,
    predict,
    score_segmentation,
    train_segmenter,
)
from sim2real_gan.eval.structure import luminance, ssim

PALETTE = np.array([[20, 10, 10], [150, 60, 50], [220, 190, 90], [60, 90, 160]], np.float32)


def _scenes(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        for c in (1, 2, 3):
            y, x = rng.integers(0, size - 8, 2)
            labels[i, y:y + 8, x:x + 8] = c
    img = np.clip(PALETTE[labels] + rng.normal(0, 8, (n, size, size, 3)), 0, 255)
    return img.astype(np.uint8), labels


def test_iou_on_constructed_maps() -> None:
    target = np.array([[0, 0, 1, 1], [0, 0, 1, 1]], np.uint8)[None]
    pred = np.array([[0, 0, 0, 1], [0, 0, 1, 1]], np.uint8)[None]
    s = score_segmentation(pred, target, num_classes=3)
    assert s.per_class[0] == pytest.approx(4 / 5) and s.per_class[1] == pytest.approx(3 / 4)
    assert np.isnan(s.per_class[2])  # absent in both: not counted
    assert s.miou == pytest.approx((4 / 5 + 3 / 4) / 2)
    assert s.pixel_accuracy == pytest.approx(7 / 8)
    assert score_segmentation(target, target, 3).miou == 1.0
    cm = confusion_matrix(pred, target, 3)
    assert cm.sum() == 8 and cm[1, 0] == 1
    assert iou_from_confusion(np.zeros((3, 3), np.int64)).per_class == [pytest.approx(np.nan,
                                                                                      nan_ok=True)] * 3


def test_segmenter_learns_and_is_deterministic() -> None:
    img, lab = _scenes(24, 32, seed=0)
    cfg = SegmenterConfig(num_classes=4, width=8, steps=60, batch_size=8, lr=5e-3)
    model = train_segmenter(img, lab, cfg)
    test_img, test_lab = _scenes(8, 32, seed=1)
    pred = predict(model, test_img)
    assert pred.shape == test_lab.shape and pred.dtype == np.uint8
    assert score_segmentation(pred, test_lab, 4).miou > 0.6
    again = train_segmenter(img, lab, cfg)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 again.state_dict().values(), strict=True))


def test_segmenter_trained_on_crops_segments_whole_frames() -> None:
    """crop: trained on 24x24 windows, it segments whole 48x48 frames (fully convolutional)."""
    img, lab = _scenes(24, 48, seed=3)
    cfg = SegmenterConfig(num_classes=4, width=8, steps=80, batch_size=8, lr=5e-3, crop=24)
    model = train_segmenter(img, lab, cfg)
    test_img, test_lab = _scenes(8, 48, seed=4)
    assert score_segmentation(predict(model, test_img), test_lab, 4).miou > 0.6
    again = train_segmenter(img, lab, cfg)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 again.state_dict().values(), strict=True))


def test_segmenter_bad_inputs() -> None:
    img, lab = _scenes(2, 32, seed=2)
    with pytest.raises(ValueError, match="labels"):
        train_segmenter(img, lab[:, :16], SegmenterConfig(num_classes=4, steps=1))
    with pytest.raises(ValueError, match="num_classes"):
        train_segmenter(img, lab, SegmenterConfig(num_classes=2, steps=1))
    with pytest.raises(ValueError, match="multiples of 4"):
        SmallUNet(4, 8)(torch.zeros(1, 3, 30, 30))
    with pytest.raises(ValueError, match="differ in shape"):
        score_segmentation(lab, lab[:1], 4)


def test_ssim_identity_and_degradation() -> None:
    img, _ = _scenes(3, 32, seed=3)
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-6)
    recoloured = img[..., ::-1].copy()  # same structure, other colours: luminance changes
    blurred = np.repeat(np.repeat(img[:, ::4, ::4], 4, 1), 4, 2)
    noise = np.random.default_rng(0).integers(0, 256, img.shape, dtype=np.uint8)
    s_blur, s_noise = ssim(img, blurred), ssim(img, noise)
    assert s_noise < s_blur < 1.0
    assert s_noise < 0.2
    assert ssim(img, recoloured) > s_noise
    assert luminance(img).shape == (3, 1, 32, 32)
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(img, img[:2])
    with pytest.raises(ValueError, match="uint8"):
        ssim(img.astype(np.float32), img.astype(np.float32))
