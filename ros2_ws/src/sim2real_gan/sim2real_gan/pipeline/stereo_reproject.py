"""The right eye from the left translation: stereo consistency from the simulator's depth.

A translator run on both eyes with one style still paints each eye's pixels on its own, so
texture and highlights need not sit on the same surface point in both views, and a stereo
matcher finds the wrong depth. A simulator knows the depth of every pixel, so the serving
path can make the pair consistent by construction: every right-eye pixel whose surface point
the left eye also sees takes the left translation's colour at the matching left pixel;
the rest (points only the right eye sees, pixels without depth) keep the right eye's own
translation of the same batch and style.

For a rectified pair (ROS ``camera_info``: the right eye's ``P[0,3] = -fx * baseline``) a
right pixel ``(x, y)`` with depth ``z`` sees the point that the left eye shows at
``(x + d, y)``, ``d = fx * B / z + (cx_left - cx_right)`` (converged scopes rectified by
sensor shift included). The left eye sees the same point when its own depth there agrees
(``tolerance``, relative, at both columns of the bilinear footprint); otherwise the point is
occluded in the left view.

Depth is a label of each eye (``32FC1`` metres, ``16UC1`` millimetres; 0, NaN and +inf, as
Gazebo writes where nothing is in range, mean no surface). Trade-off, documented in
docs/stereo.md: view-dependent effects (a specular highlight) are copied from the left eye,
so they sit on the surface in the right view instead of sliding as a real highlight would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from sim2real_gan.io.image_codec import image_to_numpy
from sim2real_gan.pipeline.faults import FrameFault

__all__ = ["PairGeometry", "reproject_right", "RightFromLeft", "right_from_left_for",
           "depth_metres", "DEPTH_ENCODINGS"]

DEPTH_ENCODINGS = {"32FC1": 1.0, "16UC1": 1e-3}
"""Depth encodings and their scale to metres (REP 118)."""


@dataclass(frozen=True)
class PairGeometry:
    """What the reprojection needs of a rectified pair: ``fx_b`` = fx * baseline (pixels x
    metres, > 0) and ``dcx`` = cx_left - cx_right (pixels)."""

    fx_b: float
    dcx: float = 0.0

    @classmethod
    def from_projections(cls, p_left: Any, p_right: Any) -> PairGeometry | None:
        """From both eyes' ``camera_info.p`` (12 numbers); None without a baseline (the right
        eye's ``P[0,3] - P_left[0,3]`` must be negative)."""
        pl = np.asarray(p_left, dtype=np.float64).reshape(-1)
        pr = np.asarray(p_right, dtype=np.float64).reshape(-1)
        if pl.size != 12 or pr.size != 12:
            return None
        fx_b = -(pr[3] - pl[3])
        if not np.isfinite(fx_b) or fx_b <= 0:
            return None
        return cls(float(fx_b), float(pl[2] - pr[2]))


def depth_metres(depth: np.ndarray, encoding: str = "32FC1") -> np.ndarray:
    """float32 (H,W) depth in metres; 0 where there is no surface (0, NaN, +-inf, < 0)."""
    scale = DEPTH_ENCODINGS.get(encoding)
    if scale is None:
        raise ValueError(f"depth encoding {encoding!r} is not one of {sorted(DEPTH_ENCODINGS)}")
    z = np.asarray(depth, dtype=np.float32) * np.float32(scale)
    return np.where(np.isfinite(z) & (z > 0), z, np.float32(0))


def reproject_right(left_out: np.ndarray, right_out: np.ndarray, depth_left: np.ndarray,
                    depth_right: np.ndarray, geometry: PairGeometry,
                    tolerance: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """The right eye with every pixel the left eye also sees taken from ``left_out``.

    Args:
        left_out, right_out: uint8 (H,W,3) translations of one pair.
        depth_left, depth_right: float32 (H,W) metres, 0 = no surface (:func:`depth_metres`).
        geometry: the pair's :class:`PairGeometry`.
        tolerance: relative depth difference up to which the left eye sees the same point.
    Returns:
        (right uint8 (H,W,3), mask bool (H,W): True where the pixel came from the left eye).
    """
    h, w = depth_right.shape
    if left_out.shape != right_out.shape or left_out.shape[:2] != (h, w) \
            or depth_left.shape != (h, w):
        raise ValueError(f"reproject_right: shapes differ: left {left_out.shape}, right "
                         f"{right_out.shape}, depth {depth_left.shape} / {depth_right.shape}")
    hit = depth_right > 0
    d = np.zeros((h, w), np.float32)
    np.divide(np.float32(geometry.fx_b), depth_right, out=d, where=hit)
    mx = np.arange(w, dtype=np.float32)[None, :] + d + np.float32(geometry.dcx)
    my = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, axis=1)
    x0 = np.floor(mx)
    inside = hit & (x0 >= 0) & (x0 + 1 <= w - 1)
    agree = inside
    for x in (x0, x0 + 1):  # both columns of the bilinear footprint show this surface
        zl = cv2.remap(depth_left, x, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        agree = agree & (np.abs(zl - depth_right) <= np.float32(tolerance) * depth_right)
    warped = cv2.remap(left_out, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.where(agree[..., None], warped, right_out), agree


@dataclass
class RightFromLeft:
    """The serving step: after a pair is translated, its right eye is rebuilt from the left
    with both eyes' depth labels and camera_infos (:func:`reproject_right`).

    Args:
        depth_keys: eye -> the label key (topic) of that eye's depth.
        tolerance: as :func:`reproject_right`.
    Counts: ``pairs`` rebuilt, ``no_baseline`` pairs left as translated (the right
    camera_info has no baseline; the baseline check logs it), ``covered`` the sum of the
    rebuilt share of right-eye pixels (mean = covered / pairs).
    """

    depth_keys: Mapping[str, str]
    tolerance: float = 0.02
    pairs: int = 0
    no_baseline: int = 0
    covered: float = 0.0

    def apply(self, out: np.ndarray, eyes: Mapping[str, Any], stamp_ns: int) -> np.ndarray:
        """``out`` (2,H,W,3) with its right eye rebuilt; ``eyes``: eye -> object with
        ``labels`` (key -> Image message) and ``camera_info``. A depth label that cannot be
        read is a ``decode`` FrameFault naming its topic."""
        infos = [eyes[e].camera_info for e in ("left", "right")]
        geometry = None if None in infos else PairGeometry.from_projections(infos[0].p,
                                                                            infos[1].p)
        if geometry is None:
            self.no_baseline += 1
            return out
        depth = {e: self._depth(eyes[e].labels, self.depth_keys[e], stamp_ns, out.shape[1:3])
                 for e in ("left", "right")}
        right, mask = reproject_right(out[0], out[1], depth["left"], depth["right"], geometry,
                                      self.tolerance)
        self.pairs += 1
        self.covered += float(mask.mean())
        return np.stack([out[0], right])

    @staticmethod
    def _depth(labels: Mapping[str, Any], key: str, stamp_ns: int,
               hw: tuple[int, int]) -> np.ndarray:
        msg = labels.get(key)
        if msg is None:
            raise FrameFault("decode", key, stamp_ns, "depth for the right eye's "
                             "reprojection is missing from the pair")
        try:
            z = depth_metres(image_to_numpy(msg), msg.encoding)
        except ValueError as exc:
            raise FrameFault("decode", key, stamp_ns, f"depth: {exc}") from exc
        if z.shape != tuple(hw):
            raise FrameFault("size_mismatch", key, stamp_ns,
                             f"depth is {z.shape[1]}x{z.shape[0]}, the image {hw[1]}x{hw[0]}")
        return z

    def summary(self) -> str:
        """``right eye from the left translation in 118 pairs (91% of its pixels on
        average); 2 pairs without a baseline kept as translated``."""
        if not self.pairs and not self.no_baseline:
            return "right eye from the left translation: no pair yet"
        text = (f"right eye from the left translation in {self.pairs} pairs"
                + (f" ({100 * self.covered / self.pairs:.0f}% of its pixels on average)"
                   if self.pairs else ""))
        if self.no_baseline:
            text += (f"; {self.no_baseline} pairs without a baseline in camera_info kept as "
                     "translated")
        return text


def right_from_left_for(plan: Any, depth_topic: str | None,
                        tolerance: float = 0.02) -> tuple[RightFromLeft | None, str]:
    """The reprojection step for a :class:`~sim2real_gan.pipeline.stereo_topics.StereoPlan`,
    or None, with one line saying which (for the log).

    On when ``depth_topic`` (relative: beside each eye's image) is a label of both eyes and
    both eyes carry camera_info; ``""`` / None switches it off."""
    if not depth_topic:
        return None, "right eye from the left translation: off (no depth topic set)"
    keys = {e: plan.eye(e).aux_topic(depth_topic) for e in ("left", "right")}
    missing = [k for e, k in keys.items() if k not in plan.eye(e).label_routes]
    if missing:
        return None, (f"right eye from the left translation: off ({' and '.join(missing)} "
                      "not carried with the pair); each eye is its own translation")
    no_info = [e for e in ("left", "right") if plan.eye(e).camera_info is None]
    if no_info:
        return None, (f"right eye from the left translation: off (no camera_info for the "
                      f"{' and '.join(no_info)} eye); each eye is its own translation")
    return RightFromLeft(keys, tolerance), (
        f"right eye from the left translation with depth {keys['left']} and {keys['right']}: "
        "pixels both eyes see are the left translation reprojected (docs/stereo.md)")
