"""What the simulator yields: :class:`Frame` (one camera), :class:`StereoFrame` (both eyes of
a stereo scope with ground-truth disparity) and :class:`GroundTruth` (the label planes as one
appearance's image shows them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class GroundTruth:
    """Label planes that match one appearance's image pixel for pixel (H, W = image size):
    labels uint8 (H,W), depth float32 (H,W), uv float32 (H,W,2), flow float32 (H,W,2),
    flow_valid bool (H,W)."""

    labels: np.ndarray
    depth: np.ndarray
    uv: np.ndarray
    flow: np.ndarray
    flow_valid: np.ndarray


@dataclass
class Frame:
    """One simulated frame (H, W = image size).

    rgb: appearance name -> uint8 (H,W,3) RGB for each of ``SimConfig.appearances``.
    labels: uint8 (H,W) class ids (see ``config.CLASS_NAMES``).
    depth: float32 (H,W) metres along the optical axis; 0 = nothing within far (background).
    uv: float32 (H,W,2) atlas surface coordinates in [0,1]; a material point keeps its UV in
        every frame (0 on background).
    flow: float32 (H,W,2) forward flow to frame index+1 in pixels (dx, dy).
    flow_valid: bool (H,W) the point is in view and not occluded at index+1.
    K: float64 (3,3) intrinsics; cam_pose: float64 (4,4) T_world_camera (optical frame).
    content_mask: bool (H,W) read-only: where the ``real`` rendering shows the scene (inside
        the scope's field stop; the same array for every frame of a sequence). Outside it
        the ``real`` image is black. None only for frames not made by the simulator.
    real_camera: (K (3,3), D (5,) plumb_bob) of the ``real`` image when barrel distortion
        is on (then ``real`` images are unlabelled: :meth:`labelled`), else None.

    labels, depth, uv, flow and flow_valid describe the undistorted pinhole view; the ``sim``
    image shows all of it, the ``real`` image the part inside ``content_mask``
    (:meth:`ground_truth` gives the planes for one appearance).
    """

    index: int
    stamp_ns: int
    rgb: dict[str, np.ndarray]
    labels: np.ndarray
    depth: np.ndarray
    uv: np.ndarray
    flow: np.ndarray
    flow_valid: np.ndarray
    K: np.ndarray
    cam_pose: np.ndarray = field(repr=False)
    content_mask: np.ndarray | None = field(default=None, repr=False)
    real_camera: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def image(self, appearance: str | None = None) -> np.ndarray:
        """RGB of ``appearance`` (default: the only/first one rendered)."""
        if appearance is None:
            return next(iter(self.rgb.values()))
        if appearance not in self.rgb:
            raise KeyError(f"appearance {appearance!r} was not rendered; have {sorted(self.rgb)}")
        return self.rgb[appearance]

    def labelled(self, appearance: str) -> bool:
        """Whether the label planes line up with ``appearance``'s image (False only for a
        ``real`` image with barrel distortion)."""
        return not (appearance == "real" and self.real_camera is not None)

    def ground_truth(self, appearance: str) -> GroundTruth:
        """Label planes as ``appearance``'s image shows them. ``"sim"``: the frame's own
        planes. ``"real"``: outside ``content_mask`` (the black surround) class 0
        (background: nothing visible, as in the image), depth 0, uv 0, flow 0 and
        flow_valid False. Raises ValueError for an unlabelled (distorted) ``real`` image."""
        if appearance not in ("sim", "real"):
            raise ValueError(f"appearance must be 'sim' or 'real', got {appearance!r}")
        if not self.labelled(appearance):
            raise ValueError("real images with barrel distortion (RealLookConfig.distortion) "
                             "are unlabelled footage stand-ins: no ground truth lines up")
        if appearance == "sim" or self.content_mask is None or self.content_mask.all():
            return GroundTruth(self.labels, self.depth, self.uv, self.flow, self.flow_valid)
        m = self.content_mask
        return GroundTruth(labels=np.where(m, self.labels, np.uint8(0)),
                           depth=np.where(m, self.depth, np.float32(0)),
                           uv=np.where(m[..., None], self.uv, np.float32(0)),
                           flow=np.where(m[..., None], self.flow, np.float32(0)),
                           flow_valid=self.flow_valid & m)


@dataclass
class StereoFrame:
    """Both eyes of a stereo scope at one instant (identical ``index`` and ``stamp_ns``).

    left, right: each eye's :class:`Frame` (its own K, pose, labels, depth, uv, flow).
    disparity: float32 (H,W) left -> right in pixels: the surface point at left pixel (x, y)
        is at (x - disparity, y) in the right image (rows are aligned); 0 on background.
    disparity_valid: bool (H,W): that point is inside the right image, not occluded there,
        and the right image shows the same surface over its whole bilinear footprint.
    baseline_m: distance between the eyes (metres).
    """

    left: Frame
    right: Frame
    disparity: np.ndarray
    disparity_valid: np.ndarray
    baseline_m: float

    @property
    def index(self) -> int:
        return self.left.index

    def disparity_for(self, appearance: str) -> tuple[np.ndarray, np.ndarray]:
        """(disparity, validity) matching ``appearance``'s images: for ``"real"`` a pixel is
        also invalid where the left pixel or its match in the right image lies outside the
        field stop (black surround), and disparity is 0 outside the left content area."""
        if appearance not in ("sim", "real"):
            raise ValueError(f"appearance must be 'sim' or 'real', got {appearance!r}")
        ml, mr = self.left.content_mask, self.right.content_mask
        if appearance == "sim" or ml is None or mr is None or (ml.all() and mr.all()):
            return self.disparity, self.disparity_valid
        h, w = self.disparity.shape
        xr = np.rint(np.arange(w)[None, :] - self.disparity).astype(np.intp)
        inside = (xr >= 0) & (xr < w)
        seen = mr[np.arange(h)[:, None], np.clip(xr, 0, w - 1)] & inside
        valid = self.disparity_valid & ml & seen
        return np.where(ml, self.disparity, np.float32(0)), valid

    @property
    def stamp_ns(self) -> int:
        return self.left.stamp_ns
