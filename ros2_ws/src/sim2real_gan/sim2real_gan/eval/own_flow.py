"""Estimated forward flow of an evaluation clip (for recordings without ground-truth flow).

The estimator is the one training uses (:class:`sim2real_gan.flow.FlowEstimator`: DIS +
forward-backward check, fused with depth/camera-motion flow when depth and cameras exist),
run on the framed sim input frames. As in training, pixels without a surface (depth 0,
Gazebo's +inf) are never valid.
"""

from __future__ import annotations

import numpy as np

from sim2real_gan.flow import Camera, FlowEstimator

__all__ = ["estimate_clip_flow"]


def estimate_clip_flow(clip: dict[str, np.ndarray], cams: list[Camera] | None,
                       preset: str = "fast") -> tuple[np.ndarray, np.ndarray, float]:
    """Flow of one clip.

    Args:
        clip: ``image`` uint8 (T,h,w,3), optional ``depth`` float32 (T,h,w) metres.
        cams: the framed cameras of the T frames, or None.
    Returns:
        flow float32 (T-1,h,w,2) forward px, valid bool (T-1,h,w), fraction of pixels whose
        flow came from depth and camera motion.
    """
    est = FlowEstimator(preset, method="auto")
    images, depth = clip["image"], clip.get("depth")
    flows, valids, geo = [], [], []
    for t in range(len(images) - 1):
        a, b = {"image": images[t]}, {"image": images[t + 1]}
        if depth is not None:
            a["depth"], b["depth"] = depth[t], depth[t + 1]
        f, v, g = est(a, b, None if cams is None else cams[t],
                      None if cams is None else cams[t + 1])
        flows.append(f)
        valids.append(v & (depth[t] > 0) if depth is not None else v)
        geo.append(g)
    return np.stack(flows), np.stack(valids), float(np.mean(geo))
