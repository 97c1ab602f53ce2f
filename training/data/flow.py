"""Optical flow estimated from the recording, for sources without ground-truth flow.

Image flow: forward flow t -> t+1 by OpenCV's DIS (Kroeger et al. 2016; preset ``fast``
with 16x16 patches at stride 4, which beat the presets' own patch sizes on the simulator's
flat-shaded frames), and its validity by the forward-backward check of Sundaram et al.
2010: with w_f the forward flow at x and w_b the backward flow at x + w_f, a pixel is valid
when

    |w_f + w_b|^2 < alpha * (|w_f|^2 + |w_b|^2) + beta        (alpha 0.01, beta 0.5 px^2)

and x + w_f lies inside the image. Occluded and ambiguous pixels fail the check, so the
temporal loss ignores them as it ignores the simulator's occluded pixels.

Where the source also has depth and a camera (intrinsics + pose per frame: camera_info and
/tf of a bag, or the built-in simulator), ``method: auto`` adds the static scene's flow from
depth and camera motion and picks per pixel whichever explains the images (see
flow_geometry.py): exact on the static scene where image flow struggles (textureless
surfaces), image flow on what moves. Pixels without a surface (depth 0: Gazebo's +inf)
are never valid.

Flow is computed once per sequence at the loaded frame size and cached as two ``.npy``
arrays (flow float16 (T-1,H,W,2), valid bool (T-1,H,W)), memory-mapped by the workers,
under ``<cache>/flow/<key>/`` where the key hashes the frames' content (image, depth),
cameras, load size and the estimator settings.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from .flow_geometry import depth_pose_flow, fuse
from .frames import Camera, FrameRef
from .source_data import Sequence_

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
           "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
METHODS = ("auto", "dis")
VERSION = 2  # bump when the estimator's output changes: old cache entries are not reused


@dataclass(frozen=True)
class FlowEstimator:
    """Image flow (DIS + forward-backward check), fused with depth/pose flow when the frames
    allow and ``method`` is "auto" (module docstring). ``patch_size`` 0 keeps the preset's."""

    preset: str = "fast"
    patch_size: int = 16
    patch_stride: int = 4
    alpha: float = 0.01
    beta: float = 0.5
    method: str = "auto"

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"flow preset: expected one of {sorted(PRESETS)}, "
                             f"got {self.preset!r}")
        if self.method not in METHODS:
            raise ValueError(f"flow method: expected one of {METHODS}, got {self.method!r}")

    def key(self) -> str:
        return repr((VERSION, sorted(asdict(self).items())))

    def image_flow(self, g0: np.ndarray, g1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 grey (H,W) frames t, t+1 -> flow float32 (H,W,2) px, valid bool (H,W)."""
        dis = cv2.DISOpticalFlow_create(PRESETS[self.preset])
        if self.patch_size:
            dis.setPatchSize(self.patch_size)
            dis.setPatchStride(self.patch_stride)
        fwd = dis.calc(g0, g1, None)
        bwd = dis.calc(g1, g0, None)
        return fwd, fb_consistent(fwd, bwd, self.alpha, self.beta)

    def __call__(self, fr_t: dict[str, np.ndarray], fr_t1: dict[str, np.ndarray],
                 cam_t: Camera | None = None, cam_t1: Camera | None = None
                 ) -> tuple[np.ndarray, np.ndarray, float]:
        """Loaded frames t, t+1 (``image``, optional ``depth``) and their cameras ->
        flow float32 (H,W,2), valid bool (H,W), fraction of pixels from depth/pose."""
        g0 = cv2.cvtColor(fr_t["image"], cv2.COLOR_RGB2GRAY)
        g1 = cv2.cvtColor(fr_t1["image"], cv2.COLOR_RGB2GRAY)
        flow, valid = self.image_flow(g0, g1)
        if (self.method == "dis" or cam_t is None or cam_t1 is None or "depth" not in fr_t
                or "depth" not in fr_t1):
            return flow, valid, 0.0
        h, w = g0.shape
        geo, visible = depth_pose_flow(fr_t["depth"], fr_t1["depth"], cam_t.at_size(h, w),
                                       cam_t1.at_size(h, w))
        flow, valid, used = fuse(g0, g1, flow, valid, geo, visible)
        return flow, valid, float(used.mean())


def fb_consistent(fwd: np.ndarray, bwd: np.ndarray, alpha: float = 0.01,
                  beta: float = 0.5) -> np.ndarray:
    """Forward-backward check: fwd, bwd float32 (H,W,2) -> bool (H,W)."""
    h, w = fwd.shape[:2]
    mx = np.arange(w, dtype=np.float32)[None, :] + fwd[..., 0]
    my = np.arange(h, dtype=np.float32)[:, None] + fwd[..., 1]
    back = cv2.remap(bwd, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    err = ((fwd + back) ** 2).sum(-1)
    bound = alpha * ((fwd ** 2).sum(-1) + (back ** 2).sum(-1)) + beta
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return (err < bound) & inside


@dataclass
class EstimatedFlowFrame(FrameRef):
    """A frame plus its cached estimated flow (``index`` into the sequence's arrays; -1 for
    a sequence's last frame, which has no next frame: zero flow, nothing valid)."""

    base: FrameRef
    folder: str
    index: int

    def load(self) -> dict[str, np.ndarray]:
        fr = self.base.load()
        h, w = fr["image"].shape[:2]
        if self.index < 0:
            fr["flow"] = np.zeros((h, w, 2), np.float32)
            fr["valid"] = np.zeros((h, w), bool)
            return fr
        fr["flow"] = np.load(Path(self.folder) / "flow.npy", mmap_mode="r")[self.index].astype(
            np.float32)
        valid = np.array(np.load(Path(self.folder) / "valid.npy", mmap_mode="r")[self.index])
        fr["valid"] = valid & (fr["depth"] > 0) if "depth" in fr else valid
        return fr

    def _content_id(self) -> bytes:
        return self.base._content_id()


def _compute(seq: Sequence_, folder: Path, est: FlowEstimator, bar: tqdm) -> float:
    """Estimate every pair of ``seq`` into a new ``folder`` (atomic: temp dir + rename).
    Returns the mean fraction of pixels whose flow came from depth and pose."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        prev = seq[0].load()
        h, w = prev["image"].shape[:2]
        flow = np.lib.format.open_memmap(tmp / "flow.npy", "w+", np.float16, (len(seq) - 1, h, w, 2))
        valid = np.lib.format.open_memmap(tmp / "valid.npy", "w+", bool, (len(seq) - 1, h, w))
        geo = []
        for t in range(len(seq) - 1):
            nxt = seq[t + 1].load()
            flow[t], valid[t], g = est(prev, nxt, seq[t].camera, seq[t + 1].camera)
            geo.append(g)
            prev = nxt
            bar.update(1)
        flow.flush()
        valid.flush()
        del flow, valid
        if folder.exists():  # another process finished the same sequence first
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, folder)
        return float(np.mean(geo)) if geo else 0.0
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sequence_key(seq: Sequence_, est: FlowEstimator) -> str:
    h = hashlib.sha1(est.key().encode())
    for f in seq:
        h.update(f.fingerprint().encode())
    return h.hexdigest()[:20]


def attach_estimated_flow(seqs: list[Sequence_], cache: Path, est: FlowEstimator,
                          desc: str = "estimate flow") -> tuple[list[Sequence_], int, float]:
    """Sequences whose frames carry estimated ``flow``/``valid`` (computed or from cache).

    Returns the new sequences, how many pairs had to be computed (0 = all cached) and the
    mean fraction of their pixels whose flow came from depth and camera motion.
    """
    keys = [sequence_key(s, est) for s in seqs]
    todo = [(s, cache / "flow" / k) for s, k in zip(seqs, keys, strict=True)
            if len(s) > 1 and not (cache / "flow" / k / "valid.npy").is_file()]
    pairs = sum(len(s) - 1 for s, _ in todo)
    geo = []
    with tqdm(total=pairs, desc=desc, unit="pair", disable=None if pairs else True) as bar:
        for s, folder in todo:
            geo.append(_compute(s, folder, est, bar) * (len(s) - 1))
    out = []
    for s, k in zip(seqs, keys, strict=True):
        folder = str(cache / "flow" / k)
        out.append([EstimatedFlowFrame(base=f, folder=folder, index=i if i < len(s) - 1 else -1,
                                       camera=f.camera, where=f.where) for i, f in enumerate(s)])
    return out, pairs, float(sum(geo) / pairs) if pairs else 0.0
