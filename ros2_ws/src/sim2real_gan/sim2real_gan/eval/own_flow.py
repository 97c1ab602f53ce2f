"""Estimated forward flow of an evaluation clip (for recordings without ground-truth flow).

The estimator is the one training uses (:class:`sim2real_gan.flow.FlowEstimator`: DIS +
forward-backward check, fused with depth/camera-motion flow when depth and cameras exist),
run on the framed sim input frames. As in training, pixels without a surface (depth 0,
Gazebo's +inf) are never valid. When the bag has labels, a pixel is also valid only where
the flow's bilinear footprint in the next frame stays on the pixel's class
(:func:`sim2real_gan.flow.estimate.same_label_footprint`), as the simulator's ground-truth
mask requires one surface there: without it, object boundaries (where any warp blends two
surfaces) count, and the warping error comes out about 3x the ground-truth-flow number on
the stand-in recordings; with it, within 0.6-1.0x (tests/test_eval_own.py).
"""

from __future__ import annotations

import numpy as np

from sim2real_gan.flow import Camera, FlowEstimator
from sim2real_gan.flow.estimate import same_label_footprint

__all__ = ["estimate_clip_flow"]


def estimate_clip_flow(clip: dict[str, np.ndarray], cams: list[Camera] | None,
                       preset: str = "fast") -> tuple[np.ndarray, np.ndarray, float]:
    """Flow of one clip.

    Args:
        clip: ``image`` uint8 (T,h,w,3), optional ``depth`` float32 (T,h,w) metres and
            ``labels`` (T,h,w) class ids.
        cams: the framed cameras of the T frames, or None.
    Returns:
        flow float32 (T-1,h,w,2) forward px, valid bool (T-1,h,w), fraction of pixels whose
        flow came from depth and camera motion.
    """
    est = FlowEstimator(preset, method="auto")
    images, depth, labels = clip["image"], clip.get("depth"), clip.get("labels")
    flows, valids, geo = [], [], []
    for t in range(len(images) - 1):
        a, b = {"image": images[t]}, {"image": images[t + 1]}
        if depth is not None:
            a["depth"], b["depth"] = depth[t], depth[t + 1]
        f, v, g = est(a, b, None if cams is None else cams[t],
                      None if cams is None else cams[t + 1])
        if depth is not None:
            v &= depth[t] > 0
        if labels is not None:
            v &= same_label_footprint(labels[t], labels[t + 1], f)
        flows.append(f)
        valids.append(v)
        geo.append(g)
    return np.stack(flows), np.stack(valids), float(np.mean(geo))
