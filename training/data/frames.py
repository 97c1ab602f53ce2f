"""Lazily loaded frames. A :class:`FrameRef` is cheap to pickle (paths, raw CDR bytes or
small arrays) and is decoded by ``load()`` inside DataLoader workers.

A loaded frame is a dict of numpy arrays, each (H,W,...) at one size: ``image`` uint8
(H,W,3) RGB (always) and whichever of these the source has:

- ``flow`` float32 (H,W,2) forward flow to the next frame in pixels (dx, dy), and ``valid``
  bool (H,W) where that flow can be trusted (ground truth, or estimated: see ``sim2real_gan.flow`` and ``flow_cache.py``);
- ``uv`` float32 (H,W,2); ``depth`` float32 (H,W) metres, 0 = no surface (Gazebo's
  +/-inf and any NaN become 0 on load, so no non-finite value reaches a network);
- ``labels`` (H,W) class ids (a 3-channel ``labels_map`` is reduced to one channel);
- ``target`` uint8 (H,W,3) paired real frame; ``mask`` bool (H,W) content mask of footage;
- stereo sources (``stereo.py``): ``right`` uint8 (H,W,3) the right eye, ``disparity``
  float32 (H,W) left -> right in pixels with ``disparity_valid`` bool (H,W), and the right
  eye's ``right_uv`` / ``right_depth``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from sim2real_gan.flow.camera import Camera
from sim2real_gan.io.recording import COLOUR, clean_frame, decode_parts

FIELDS = ("image", "flow", "valid", "uv", "depth", "labels", "target", "mask", "right",
          "disparity", "disparity_valid", "right_uv", "right_depth")


def resize_frame(fr: dict[str, np.ndarray], size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Resize every field to (H, W) = size; flow vectors are rescaled with the image."""
    h0, w0 = fr["image"].shape[:2]
    h, w = size
    if (h0, w0) == (h, w):
        return fr
    out = {}
    for k, v in fr.items():
        if k in ("image", "flow", "target", "right"):
            r = cv2.resize(v, (w, h), interpolation=cv2.INTER_AREA if h < h0 else cv2.INTER_LINEAR)
            if k == "flow":
                r = r * np.array([w / w0, h / h0], np.float32)
            out[k] = r
        elif k == "disparity":  # a horizontal distance: scaled with the width
            out[k] = cv2.resize(v, (w, h), interpolation=cv2.INTER_NEAREST) * np.float32(w / w0)
        else:  # masks, ids, depth and surface coordinates: never blend across boundaries
            r = cv2.resize(v.astype(np.uint8) if v.dtype == bool else v, (w, h),
                           interpolation=cv2.INTER_NEAREST)
            out[k] = r.astype(bool) if v.dtype == bool else r
    return out


@dataclass
class FrameRef:
    """Base: subclasses implement ``_load`` and ``_content_id``.

    ``size`` (H, W) resizes on load; ``const`` fields (per-source arrays such as a footage
    ``mask``, already at the loaded size) are added after resizing; ``camera`` (intrinsics
    and pose, when the source records them) feeds flow estimation; ``where`` names the
    frame in error messages.
    """

    size: tuple[int, int] | None = field(default=None, kw_only=True)
    const: dict[str, np.ndarray] = field(default_factory=dict, kw_only=True, repr=False)
    label_channel: int = field(default=0, kw_only=True)
    camera: Camera | None = field(default=None, kw_only=True, repr=False)
    where: str = field(default="frame", kw_only=True)

    def _load(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _content_id(self) -> bytes:
        raise NotImplementedError

    def load(self) -> dict[str, np.ndarray]:
        fr = clean_frame(self._load(), self.label_channel, self.where)
        fr = resize_frame(fr, self.size) if self.size else fr
        fr.update(self.const)
        return fr

    def fingerprint(self) -> str:
        """Stable id of the content, load size and camera: keys derived-data caches."""
        h = hashlib.sha1(self._content_id())
        h.update(repr(self.size).encode())
        if self.camera is not None:
            h.update(self.camera.key())
        return h.hexdigest()


@dataclass
class ArrayFrame(FrameRef):
    """Already decoded arrays (in-process simulator, decoded video)."""

    arrays: dict[str, np.ndarray]

    def _load(self) -> dict[str, np.ndarray]:
        return dict(self.arrays)

    def _content_id(self) -> bytes:
        h = hashlib.sha1()
        for k in sorted(self.arrays):
            h.update(k.encode())
            h.update(np.ascontiguousarray(self.arrays[k]).data)
        return h.digest()


@dataclass
class FileFrame(FrameRef):
    """Image file (+ optional per-field .npy/.png files of a sim folder)."""

    paths: dict[str, Path]

    def _load(self) -> dict[str, np.ndarray]:
        from sim2real_gan.io.media import read_image

        out: dict[str, np.ndarray] = {}
        for k, p in self.paths.items():
            if k in COLOUR:
                out[k] = read_image(p)
            elif p.suffix == ".npy":
                out[k] = np.load(p, allow_pickle=False)
            else:
                img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
                if img is None:
                    raise ValueError(f"cannot read {k} file {p}")
                out[k] = img
        for k in ("valid", "disparity_valid"):
            if k in out:
                out[k] = out[k] > 0
        return out

    def _content_id(self) -> bytes:
        ids = []
        for k in sorted(self.paths):
            st = Path(self.paths[k]).stat()
            ids.append(f"{k}={Path(self.paths[k]).resolve()}|{st.st_size}|{st.st_mtime_ns}")
        return "\n".join(ids).encode()


@dataclass
class BagFrame(FrameRef):
    """Raw CDR payloads of one stamp's messages: field -> (msgtype, raw)."""

    raw: dict[str, tuple[str, bytes]]

    def _load(self) -> dict[str, np.ndarray]:
        return decode_parts(self.raw, self.where)

    def _content_id(self) -> bytes:
        h = hashlib.sha1()
        for k in sorted(self.raw):
            h.update(k.encode())
            h.update(self.raw[k][1])
        return h.digest()
