"""Random crops and flips applied identically to a frame pair (t, t+1) and its flow.

A crop moves both frames by the same offset, so flow vectors are unchanged; a horizontal
flip mirrors x, so the flow's dx changes sign (dy for a vertical flip). ``uv`` and label
values are positions on the surface / class ids, so they move with the pixels unchanged.
"""

from __future__ import annotations

import numpy as np

Frame = dict[str, np.ndarray]


def _window(h: int, w: int, crop: tuple[int, int], rng: np.random.Generator
            ) -> tuple[int, int]:
    ch, cw = crop
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}x{cw} is larger than the frame {h}x{w}; lower data.crop "
                         f"or raise the source size")
    return int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))


def _apply(fr: Frame, y: int, x: int, crop: tuple[int, int], hflip: bool, vflip: bool) -> Frame:
    out = {}
    for k, v in fr.items():
        a = v[y:y + crop[0], x:x + crop[1]]
        if hflip:
            a = a[:, ::-1]
        if vflip:
            a = a[::-1]
        if k == "flow" and (hflip or vflip):
            a = a * np.array([-1.0 if hflip else 1.0, -1.0 if vflip else 1.0], np.float32)
        out[k] = np.ascontiguousarray(a)
    return out


def augment_pair(fr_t: Frame, fr_t1: Frame, rng: np.random.Generator, crop: tuple[int, int],
                 hflip: bool = True, vflip: bool = False) -> tuple[Frame, Frame]:
    """Same random crop window and flips for both frames (and both frames' fields).

    ``crop`` (H, W); the flips are drawn with probability 1/2 when enabled.
    """
    h, w = fr_t["image"].shape[:2]
    if fr_t1["image"].shape[:2] != (h, w):
        raise ValueError(f"frame pair sizes differ: {fr_t['image'].shape[:2]} vs "
                         f"{fr_t1['image'].shape[:2]}")
    y, x = _window(h, w, crop, rng)
    fh = bool(hflip and rng.random() < 0.5)
    fv = bool(vflip and rng.random() < 0.5)
    return _apply(fr_t, y, x, crop, fh, fv), _apply(fr_t1, y, x, crop, fh, fv)


def _content_window(mask: np.ndarray, crop: tuple[int, int], rng: np.random.Generator,
                    min_content: float, tries: int = 8) -> tuple[int, int]:
    """The first of ``tries`` random windows whose share of content pixels is at least
    ``min_content`` (else the one with the most content)."""
    h, w = mask.shape
    integral = np.pad(mask.astype(np.float64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    ch, cw = crop
    best, best_share = (0, 0), -1.0
    for _ in range(tries):
        y, x = _window(h, w, crop, rng)
        share = (integral[y + ch, x + cw] - integral[y, x + cw] - integral[y + ch, x]
                 + integral[y, x]) / (ch * cw)
        if share >= min_content:
            return y, x
        if share > best_share:
            best, best_share = (y, x), share
    return best


def crop_frame(fr: Frame, rng: np.random.Generator, crop: tuple[int, int],
               hflip: bool = True, vflip: bool = False, min_content: float = 0.0) -> Frame:
    """Random crop (and flips) of a single frame. With a ``mask`` field (footage content
    area) and ``min_content`` > 0 the window is drawn mostly inside the content area: the
    first of 8 draws holding at least that share of content pixels, else the fullest."""
    h, w = fr["image"].shape[:2]
    if min_content > 0 and "mask" in fr:
        y, x = _content_window(fr["mask"], crop, rng, min_content)
    else:
        y, x = _window(h, w, crop, rng)
    return _apply(fr, y, x, crop, bool(hflip and rng.random() < 0.5),
                  bool(vflip and rng.random() < 0.5))
