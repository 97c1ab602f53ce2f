"""Content masks for real footage sources (``sim2real_gan.io.footage``), one per path.

The mask (bool (H,W) at the loaded size, True = scene pixel) is attached to every frame of
the path as the ``mask`` field, so crops and flips move it with the image.
"""

from __future__ import annotations

import cv2
import numpy as np

from .source_data import Part

MODES = ("auto", "content", "off")  # anything else is a mask image path
SAMPLES = 48


def _sampled_images(part: Part) -> np.ndarray:
    from sim2real_gan.io.footage import sample_indices

    frames = [f for s in part.seqs for f in s]
    idx = sample_indices(len(frames), SAMPLES)
    imgs = [frames[i].load()["image"] for i in idx]
    if len({a.shape for a in imgs}) > 1:
        raise ValueError(f"{part.name}: frames of different sizes "
                         f"{sorted({a.shape[:2] for a in imgs})}; set the source's size: [H, W]")
    return np.stack(imgs)


def attach_mask(part: Part, mode: str, black_level: float = 20.0) -> None:
    """Detect (``auto``: content area and text; ``content``: area only) or read (a path)
    the part's content mask and add it to each frame as ``mask``; ``off`` does nothing."""
    from sim2real_gan.io.footage import detect_content_mask, load_mask_file

    if mode == "off":
        return
    imgs = _sampled_images(part)
    if mode in MODES:
        cm = detect_content_mask(imgs, black_level, text=mode == "auto")
    else:
        cm = load_mask_file(mode, part.native_size)
        h, w = imgs.shape[1:3]
        if cm.mask.shape != (h, w):
            small = cv2.resize(cm.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
            cm.mask = cm.content = small.astype(bool)
            cm.text = np.zeros_like(cm.mask)
    for s in part.seqs:
        for f in s:
            f.const["mask"] = cm.mask
    part.fields = (*part.fields, "mask")
    part.info.append(cm.describe())
