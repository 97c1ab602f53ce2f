"""Lazily loaded frames. A :class:`FrameRef` is cheap to pickle (paths, raw CDR bytes or
small arrays) and is decoded by ``load()`` inside DataLoader workers.

A loaded frame is a dict of numpy arrays: ``image`` uint8 (H,W,3) RGB (always) and, for
simulated frames, any of ``flow`` float32 (H,W,2) forward flow to the next frame in pixels,
``valid`` bool (H,W) non-occlusion mask of that flow, ``uv`` float32 (H,W,2),
``depth`` float32 (H,W) metres, ``labels`` uint8 (H,W) class ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

FIELDS = ("image", "flow", "valid", "uv", "depth", "labels")


def resize_frame(fr: dict[str, np.ndarray], size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Resize every field to (H, W) = size; flow vectors are rescaled with the image."""
    h0, w0 = fr["image"].shape[:2]
    h, w = size
    if (h0, w0) == (h, w):
        return fr
    out = {}
    for k, v in fr.items():
        if k in ("image", "flow"):
            r = cv2.resize(v, (w, h), interpolation=cv2.INTER_AREA if h < h0 else cv2.INTER_LINEAR)
            if k == "flow":
                r = r * np.array([w / w0, h / h0], np.float32)
            out[k] = r
        else:  # masks, ids and surface coordinates: never blend across boundaries
            r = cv2.resize(v.astype(np.uint8) if v.dtype == bool else v, (w, h),
                           interpolation=cv2.INTER_NEAREST)
            out[k] = r.astype(bool) if v.dtype == bool else r
    return out


@dataclass
class FrameRef:
    """Base: subclasses implement ``_load``; ``size`` (H, W) resizes on load."""

    size: tuple[int, int] | None = field(default=None, kw_only=True)

    def _load(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def load(self) -> dict[str, np.ndarray]:
        fr = self._load()
        return resize_frame(fr, self.size) if self.size else fr


@dataclass
class ArrayFrame(FrameRef):
    """Already decoded arrays (in-process simulator)."""

    arrays: dict[str, np.ndarray]

    def _load(self) -> dict[str, np.ndarray]:
        return dict(self.arrays)


@dataclass
class FileFrame(FrameRef):
    """Image file (+ optional per-field .npy/.png files of a sim folder)."""

    paths: dict[str, Path]

    def _load(self) -> dict[str, np.ndarray]:
        from sim2real_gan.io.media import read_image

        out: dict[str, np.ndarray] = {}
        for k, p in self.paths.items():
            if k == "image":
                out[k] = read_image(p)
            elif p.suffix == ".npy":
                out[k] = np.load(p, allow_pickle=False)
            else:
                img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
                if img is None:
                    raise ValueError(f"cannot read {k} file {p}")
                out[k] = img
        if "valid" in out:
            out["valid"] = out["valid"] > 0
        return out


@dataclass
class BagFrame(FrameRef):
    """Raw CDR payloads of one stamp's messages: field -> (msgtype, raw)."""

    raw: dict[str, tuple[str, bytes]]

    def _load(self) -> dict[str, np.ndarray]:
        from sim2real_gan.io.bag import BagMessage
        from sim2real_gan.io.image_codec import image_to_numpy

        out: dict[str, np.ndarray] = {}
        for k, (msgtype, raw) in self.raw.items():
            msg = BagMessage(k, msgtype, 0, raw).decode()
            arr = np.array(image_to_numpy(msg))  # copy: decoded views borrow the buffer
            if k == "image":
                enc = msg.encoding
                if enc in ("bgr8", "bgra8"):
                    arr = arr[:, :, 2::-1]
                elif enc == "mono8":
                    arr = np.repeat(arr[:, :, None], 3, axis=2)
                arr = np.ascontiguousarray(arr[:, :, :3])
            elif k == "valid":
                arr = arr > 0
            out[k] = arr
        return out
