"""The contact sheet: one row per topic, evenly spaced frames across, each row labelled.

Layout (pixels): a left column of :data:`LABEL_W` with the topic name and its kind, then
``cols`` cells of ``cell`` (h, w) with a :data:`PAD` gap, each picture fitted into its cell
(aspect kept, centred on dark grey) with its frame number; :func:`sheet_size` gives the
total, so a test can check it.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["LABEL_W", "PAD", "sheet_size", "fit", "contact_sheet"]

LABEL_W = 260
PAD = 4
_BG = (32, 32, 32)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def sheet_size(rows: int, cols: int, cell: tuple[int, int]) -> tuple[int, int]:
    """(height, width) of a sheet with ``rows`` topics and ``cols`` cells of ``cell`` (h, w)."""
    return PAD + rows * (cell[0] + PAD), LABEL_W + cols * (cell[1] + PAD)


def fit(picture: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """uint8 (H,W,3) -> (cell_h, cell_w, 3): scaled to fit, centred on the background."""
    h, w = picture.shape[:2]
    s = min(cell[0] / h, cell[1] / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_NEAREST
    small = cv2.resize(np.ascontiguousarray(picture), (nw, nh), interpolation=interp)
    out = np.full((*cell, 3), _BG, np.uint8)
    y, x = (cell[0] - nh) // 2, (cell[1] - nw) // 2
    out[y:y + nh, x:x + nw] = small
    return out


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45) -> None:
    cv2.putText(img, text, org, _FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def _label(text: str, width: int) -> list[str]:
    """Split a topic name at '/' into lines that fit ``width`` pixels."""
    lines, cur = [], ""
    for part in [p for p in text.split("/") if p]:
        piece = f"/{part}"
        if cur and cv2.getTextSize(cur + piece, _FONT, 0.45, 1)[0][0] > width:
            lines.append(cur)
            cur = ""
        cur += piece
    return lines + [cur] if cur else lines


def contact_sheet(rows: list[tuple[str, list[tuple[str, np.ndarray]]]], cols: int,
                  cell: tuple[int, int]) -> np.ndarray:
    """rows: (label, [(caption, picture uint8 (H,W,3)), ...] up to ``cols``) -> uint8 RGB."""
    h, w = sheet_size(len(rows), cols, cell)
    sheet = np.full((h, w, 3), 16, np.uint8)
    for r, (label, cells) in enumerate(rows):
        top = PAD + r * (cell[0] + PAD)
        title, _, kind = label.partition("\n")
        for k, line in enumerate(_label(title, LABEL_W - 12)[:4]):
            _text(sheet, line, (6, top + 18 + 18 * k))
        if kind:
            _text(sheet, kind, (6, top + cell[0] - 8), 0.4)
        for c, (caption, pic) in enumerate(cells[:cols]):
            left = LABEL_W + c * (cell[1] + PAD)
            sheet[top:top + cell[0], left:left + cell[1]] = fit(pic, cell)
            _text(sheet, caption, (left + 3, top + cell[0] - 5), 0.35)
    return sheet
