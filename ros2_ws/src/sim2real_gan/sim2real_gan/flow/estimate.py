"""Optical flow estimated from the frames, for recordings without ground-truth flow.

Image flow: forward flow t -> t+1 by OpenCV's DIS (Kroeger et al. 2016; preset ``fast``
with 16x16 patches at stride 4, which beat the presets' own patch sizes on the simulator's
flat-shaded frames), and its validity by the forward-backward check of Sundaram et al.
2010: with w_f the forward flow at x and w_b the backward flow at x + w_f, a pixel is valid
when

    |w_f + w_b|^2 < alpha * (|w_f|^2 + |w_b|^2) + beta        (alpha 0.01, beta 0.5 px^2)

and x + w_f lies inside the image. Occluded and ambiguous pixels fail the check, so a
temporal loss or metric ignores them as it ignores the simulator's occluded pixels.

Where the frames also have depth and a camera (intrinsics + pose per frame: camera_info and
/tf of a bag, or the built-in simulator), ``method: auto`` adds the static scene's flow from
depth and camera motion and picks per pixel whichever explains the images (see
geometry.py): exact on the static scene where image flow struggles (textureless
surfaces), image flow on what moves. With labels too, each labelled part's own rigid motion
(breathing organs) corrects the static flow where depth shows it (parts.py). Pixels without
a surface (depth 0: Gazebo's +inf) are never valid.

Used by training (``training.data.flow_cache`` caches it per sequence) and by evaluation
(``sim2real_gan.eval.own_data``: warping error of a recording without flow). numpy +
OpenCV only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .camera import Camera
from .geometry import fuse, static_motion
from .parts import refine_parts

__all__ = ["PRESETS", "METHODS", "VERSION", "FlowEstimator", "fb_consistent",
           "same_label_footprint"]

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
           "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
METHODS = ("auto", "dis")
VERSION = 3  # bump when the estimator's output changes: old cache entries are not reused


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
        """Identifies the estimator's settings and version (cache keys)."""
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
        """Frames t, t+1 (``image`` uint8 (H,W,3) RGB, optional ``depth`` float32 (H,W)
        metres, 0 = no surface, optional ``labels`` (H,W) class ids) and their cameras ->
        flow float32 (H,W,2), valid bool (H,W), fraction of pixels whose flow came from
        depth/pose. With labels, each class's own rigid motion corrects the depth/pose flow
        (parts.py: breathing organs, instruments)."""
        g0 = cv2.cvtColor(fr_t["image"], cv2.COLOR_RGB2GRAY)
        g1 = cv2.cvtColor(fr_t1["image"], cv2.COLOR_RGB2GRAY)
        flow, valid = self.image_flow(g0, g1)
        if (self.method == "dis" or cam_t is None or cam_t1 is None or "depth" not in fr_t
                or "depth" not in fr_t1):
            return flow, valid, 0.0
        h, w = g0.shape
        geo, visible, z_t1 = static_motion(fr_t["depth"], fr_t1["depth"], cam_t.at_size(h, w),
                                           cam_t1.at_size(h, w))
        flow, valid, used = fuse(g0, g1, flow, valid, geo, visible)
        if "labels" in fr_t:
            flow, _ = refine_parts(flow, used, fr_t["labels"], fr_t1["depth"], z_t1)
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


def same_label_footprint(labels_t: np.ndarray, labels_t1: np.ndarray,
                         flow: np.ndarray) -> np.ndarray:
    """Where the flow stays on one class: the label at x (frame t) equals the labels of all
    four pixels around x + flow(x) in frame t+1 (the bilinear footprint a warp samples).

    The simulator's ground-truth validity asks for one surface under that footprint; with
    recorded labels this is the closest check an estimate can make (object boundaries,
    where a warp blends two surfaces, fail it).

    Args:
        labels_t, labels_t1: (H,W) integer class ids of frames t and t+1.
        flow: float32 (H,W,2) forward flow t -> t+1 in pixels.
    Returns:
        bool (H,W).
    """
    h, w = labels_t.shape
    x = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    y = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    x0 = np.clip(np.floor(x), 0, w - 1).astype(np.intp)
    y0 = np.clip(np.floor(y), 0, h - 1).astype(np.intp)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    ok = np.ones((h, w), bool)
    for yy in (y0, y1):
        for xx in (x0, x1):
            ok &= labels_t1[yy, xx] == labels_t
    return ok
