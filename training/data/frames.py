"""Lazily loaded frames. A :class:`FrameRef` is cheap to pickle (paths, raw CDR bytes or
small arrays) and is decoded by ``load()`` inside DataLoader workers.

A loaded frame is a dict of numpy arrays, each (H,W,...) at one size: ``image`` uint8
(H,W,3) RGB (always) and whichever of these the source has:

- ``flow`` float32 (H,W,2) forward flow to the next frame in pixels (dx, dy), and ``valid``
  bool (H,W) where that flow can be trusted (ground truth, or estimated: see ``flow.py``);
- ``uv`` float32 (H,W,2); ``depth`` float32 (H,W) metres, 0 = no surface (Gazebo's
  +/-inf and any NaN become 0 on load, so no non-finite value reaches a network);
- ``labels`` (H,W) class ids (a 3-channel ``labels_map`` is reduced to one channel);
- ``target`` uint8 (H,W,3) paired real frame; ``mask`` bool (H,W) content mask of footage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

FIELDS = ("image", "flow", "valid", "uv", "depth", "labels", "target", "mask")


def resize_frame(fr: dict[str, np.ndarray], size: tuple[int, int]) -> dict[str, np.ndarray]:
    """Resize every field to (H, W) = size; flow vectors are rescaled with the image."""
    h0, w0 = fr["image"].shape[:2]
    h, w = size
    if (h0, w0) == (h, w):
        return fr
    out = {}
    for k, v in fr.items():
        if k in ("image", "flow", "target"):
            r = cv2.resize(v, (w, h), interpolation=cv2.INTER_AREA if h < h0 else cv2.INTER_LINEAR)
            if k == "flow":
                r = r * np.array([w / w0, h / h0], np.float32)
            out[k] = r
        else:  # masks, ids, depth and surface coordinates: never blend across boundaries
            r = cv2.resize(v.astype(np.uint8) if v.dtype == bool else v, (w, h),
                           interpolation=cv2.INTER_NEAREST)
            out[k] = r.astype(bool) if v.dtype == bool else r
    return out


def clean_frame(fr: dict[str, np.ndarray], label_channel: int = 0,
                where: str = "frame") -> dict[str, np.ndarray]:
    """Bring simulator conventions to ours, and check every field has the image's size.

    3-channel labels -> channel ``label_channel``; depth: 16-bit millimetres -> metres,
    non-finite or negative -> 0.
    Raises ValueError naming ``where`` and the field when sizes differ.
    """
    hw = fr["image"].shape[:2]
    lab = fr.get("labels")
    if lab is not None and lab.ndim == 3:
        fr["labels"] = np.ascontiguousarray(lab[:, :, label_channel])
    d = fr.get("depth")
    if d is not None:
        d = d.reshape(d.shape[:2]) if d.ndim == 3 and d.shape[2] == 1 else d
        d = d.astype(np.float32) / 1000 if d.dtype == np.uint16 else d  # REP 118: 16UC1 in mm
        fr["depth"] = np.where(np.isfinite(d) & (d > 0), d, 0).astype(np.float32)
    for k, v in fr.items():
        if v.shape[:2] != hw:
            raise ValueError(f"{where}: {k} is {v.shape[1]}x{v.shape[0]} but the image is "
                             f"{hw[1]}x{hw[0]} (expected the same size)")
    return fr


@dataclass(frozen=True)
class Camera:
    """Pinhole camera of one frame: ``K`` (3,3) for images of ``size`` (H, W) (pixel
    centres at integer coordinates), ``pose`` (4,4) T_world_camera, optical convention
    (z forward, x right, y down)."""

    K: np.ndarray
    pose: np.ndarray
    size: tuple[int, int]

    def at_size(self, h: int, w: int) -> Camera:
        """The same camera for images resized to (h, w)."""
        sy, sx = h / self.size[0], w / self.size[1]
        k = np.array(self.K, float)
        k[0, 0], k[0, 1], k[1, 1] = k[0, 0] * sx, k[0, 1] * sx, k[1, 1] * sy
        k[0, 2], k[1, 2] = (k[0, 2] + 0.5) * sx - 0.5, (k[1, 2] + 0.5) * sy - 0.5
        return Camera(k, self.pose, (h, w))

    def key(self) -> bytes:
        return np.ascontiguousarray(np.r_[self.K.ravel(), self.pose.ravel(), self.size],
                                    np.float64).tobytes()


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
            if k in ("image", "target"):
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

    def _content_id(self) -> bytes:
        ids = []
        for k in sorted(self.paths):
            st = Path(self.paths[k]).stat()
            ids.append(f"{k}={Path(self.paths[k]).resolve()}|{st.st_size}|{st.st_mtime_ns}")
        return "\n".join(ids).encode()


def _to_rgb(arr: np.ndarray, encoding: str) -> np.ndarray:
    if encoding in ("bgr8", "bgra8"):
        arr = arr[:, :, 2::-1]
    elif arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return np.ascontiguousarray(arr[:, :, :3])


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
            if k in ("image", "target"):
                if arr.dtype != np.uint8:
                    raise ValueError(f"{self.where}: {k} has encoding {msg.encoding!r}; expected "
                                     f"an 8-bit colour or mono image (rgb8, bgr8, mono8, ...)")
                arr = _to_rgb(arr, msg.encoding)
            elif k == "valid":
                arr = arr > 0
            out[k] = arr
        return out

    def _content_id(self) -> bytes:
        h = hashlib.sha1()
        for k in sorted(self.raw):
            h.update(k.encode())
            h.update(self.raw[k][1])
        return h.digest()
