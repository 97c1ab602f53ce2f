"""Side-by-side previews: input | translated | labels, as video frames and a PNG strip."""

from __future__ import annotations

import cv2
import numpy as np

from sim2real_gan.artifact.pixels import check_frames

# Fallback colours for class ids when no palette is given (8 distinct hues, id 0 black).
_PALETTE = np.array([[0, 0, 0], [170, 60, 50], [230, 200, 80], [200, 120, 140],
                     [240, 240, 220], [60, 180, 60], [70, 90, 230], [240, 120, 20]], np.uint8)


def colorize(labels: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H,W) class ids -> uint8 (H,W,3) RGB (ids beyond the palette wrap around)."""
    pal = _PALETTE if palette is None else np.asarray(palette, np.uint8)
    return pal[labels.astype(np.intp) % len(pal)]


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    scale = max(0.3, img.shape[1] / 640)
    thick = max(1, int(round(scale * 2)))
    org = (4, int(14 * scale) + 4)
    cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2,
                cv2.LINE_AA)
    cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                cv2.LINE_AA)
    return out


def side_by_side(panels: list[tuple[str, np.ndarray]], gap: int = 2) -> np.ndarray:
    """Captioned uint8 (H,W,3) panels of one size -> uint8 (H, n*W + (n-1)*gap, 3)."""
    if not panels:
        raise ValueError("side_by_side needs at least one panel")
    h, w = panels[0][1].shape[:2]
    for name, p in panels:
        check_frames(p, f"panel {name!r}", shape=(h, w, 3))
    sep = np.full((h, gap, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for i, (name, p) in enumerate(panels):
        if i:
            parts.append(sep)
        parts.append(_caption(p, name))
    return np.concatenate(parts, axis=1)


def strip(rows: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Stack same-width uint8 (H,W,3) rows vertically with white gaps."""
    if not rows:
        raise ValueError("strip needs at least one row")
    w = rows[0].shape[1]
    sep = np.full((gap, w, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    for i, r in enumerate(rows):
        if r.shape[1] != w:
            raise ValueError(f"row {i} is {r.shape[1]} wide, expected {w}")
        if i:
            parts.append(sep)
        parts.append(r)
    return np.concatenate(parts, axis=0)
