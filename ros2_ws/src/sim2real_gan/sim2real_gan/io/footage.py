"""Endoscope footage as it comes from a hospital tower: where the picture is.

Tower recordings show the scope's image inside a black surround (a circle or an octagon,
the rest of the frame black) and often burned-in text (date, time, room, patient fields).
A translator trained on such frames learns to paint borders and text, so training and
evaluation use a per-source *content mask*: True where a pixel shows the scene.

- :func:`detect_content_mask`: from sampled frames, the content area (pixels that are
  bright at least some of the time: the per-pixel 90th percentile over time above
  ``black_level``; thin structures such as text strokes removed by a morphological
  opening; largest component; holes filled; convex hull, since scope openings are convex)
  shrunk by a small margin, minus burned-in text (edges that stay in place while the
  scene moves: a pixel that is an edge in most sampled frames, grouped into text lines,
  each line's box masked).
- :func:`load_mask_file`: a user-painted mask image (non-zero = content).

Only numpy and OpenCV; no torch, no ROS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from sim2real_gan.artifact.pixels import check_frames

#: detection runs on frames scaled to at most this width (the mask is scaled back)
WORK_WIDTH = 480
MIN_TEXT_FRAMES = 8
MARGIN = 0.01  # the mask stays this fraction of the frame's short side inside the content


@dataclass
class ContentMask:
    """A source's content mask, all bool (H,W) at the frames' native size.

    mask: True where training/evaluation may use the pixel: the content area shrunk by a
    margin of ``MARGIN`` of the short side, minus text.
    content: the content area (scope opening). text: text boxes removed from it.
    method: "detected", "file" or "full" (no surround found: the whole frame).
    """

    mask: np.ndarray
    content: np.ndarray
    text: np.ndarray
    method: str
    text_checked: bool = True

    def describe(self) -> str:
        """e.g. ``content 71.3% of the frame (detected), text 1.2% masked``."""
        text = (f"text {100 * self.text.mean():.1f}% masked" if self.text_checked
                else "text not checked")
        return f"content {100 * self.content.mean():.1f}% of the frame ({self.method}), {text}"


def sample_indices(n: int, k: int) -> np.ndarray:
    """``min(n, k)`` indices spread evenly over ``range(n)``."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def _disk(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _largest_filled_hull(binary: np.ndarray) -> np.ndarray:
    n, lab, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    if n < 2:
        return np.zeros(binary.shape, bool)
    big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    pts = cv2.findNonZero((lab == big).astype(np.uint8))
    out = np.zeros(binary.shape, np.uint8)
    cv2.fillConvexPoly(out, cv2.convexHull(pts), 1)
    return out.astype(bool)


def _content_area(gray: np.ndarray, black_level: float, radius: int) -> tuple[np.ndarray, str]:
    """gray (N,h,w) uint8 -> content area bool (h,w) and how it was found."""
    bright = np.percentile(gray, 90, axis=0) > black_level
    if bright.mean() > 0.995:
        return np.ones(bright.shape, bool), "full"
    opened = cv2.morphologyEx(bright.astype(np.uint8), cv2.MORPH_OPEN, _disk(radius))
    area = _largest_filled_hull(opened)
    if area.mean() < 0.05:
        raise ValueError(f"no content area found: only {100 * area.mean():.1f}% of the frame "
                         f"is ever brighter than {black_level:g}/255 (expected a scope image "
                         f"inside a black surround); pass a mask file")
    return area, "detected"


def _text_boxes(gray: np.ndarray, area: np.ndarray, radius: int) -> np.ndarray:
    """Static high-contrast edges (burned-in text) inside ``area``, as boxes (h,w) bool."""
    k = np.ones((3, 3), np.uint8)
    edges = np.stack([cv2.morphologyEx(g, cv2.MORPH_GRADIENT, k) > 60 for g in gray])
    freq = edges.mean(axis=0)
    inner = cv2.erode(area.astype(np.uint8), _disk(radius + 1)).astype(bool)
    strong, weak = (freq > 0.6) & inner, (freq > 0.25) & inner
    h, w = area.shape
    line = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, w // 40) | 1, max(3, h // 120) | 1))
    grouped = cv2.dilate(weak.astype(np.uint8), line)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    out = np.zeros((h, w), np.uint8)
    pad = max(2, radius)
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        dense = strong[y:y + bh, x:x + bw].mean()
        if bh > h // 12 or bw < 1.2 * bh or dense < 0.08:
            continue  # not a line of text: too tall, too narrow, or too little stays put
        cv2.rectangle(out, (int(x) - pad, int(y) - pad), (int(x + bw) + pad, int(y + bh) + pad),
                      1, thickness=-1)
    boxes = out.astype(bool) & area
    return boxes if boxes.sum() <= 0.25 * area.sum() else np.zeros_like(boxes)


def detect_content_mask(frames: np.ndarray, black_level: float = 20.0,
                        text: bool = True) -> ContentMask:
    """Content mask of footage from sampled frames.

    Args:
        frames: uint8 (N,H,W,3) RGB frames of one source (a few dozen spread over it).
        black_level: a pixel never brighter than this (8-bit, 90th percentile over time)
            belongs to the surround.
        text: also mask burned-in text inside the content area (needs at least
            ``MIN_TEXT_FRAMES`` frames: text is what stays put while the scene moves).
    Returns:
        :class:`ContentMask` at (H,W). Raises ValueError when almost nothing is content.
    """
    arr = check_frames(np.asarray(frames), "detect_content_mask", batched=True)
    if len(arr) == 0:
        raise ValueError("detect_content_mask needs at least one frame, got (0,H,W,3)")
    h, w = arr.shape[1:3]
    s = min(1.0, WORK_WIDTH / w)
    size = (max(8, round(w * s)), max(8, round(h * s)))
    gray = np.stack([cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size,
                                interpolation=cv2.INTER_AREA) for f in arr])
    radius = max(2, round(0.008 * min(size)))
    area, method = _content_area(gray, black_level, radius)
    text = text and len(arr) >= MIN_TEXT_FRAMES
    boxes = _text_boxes(gray, area, radius) if text else np.zeros_like(area)

    def full(m: np.ndarray) -> np.ndarray:
        return cv2.resize(m.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5

    content, tx = full(area), full(boxes)
    margin = max(1, round(MARGIN * min(h, w)))  # the scope's dark, ringing rim is not scene
    inner = cv2.erode(content.astype(np.uint8), _disk(margin)).astype(bool)
    return ContentMask(inner & ~tx, content, tx & content, method, text)


def load_mask_file(path: str | os.PathLike, size: tuple[int, int]) -> ContentMask:
    """A painted mask image (non-zero = use the pixel) for frames of ``size`` (H, W)."""
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read mask file {path} (expected an image, non-zero = content)")
    if img.shape != tuple(size):
        raise ValueError(f"mask file {path} is {img.shape[1]}x{img.shape[0]} but the frames "
                         f"are {size[1]}x{size[0]} (expected the same size)")
    m = img > 0
    if not m.any():
        raise ValueError(f"mask file {path} is all zero (expected non-zero content pixels)")
    return ContentMask(m, m, np.zeros_like(m), "file", False)
