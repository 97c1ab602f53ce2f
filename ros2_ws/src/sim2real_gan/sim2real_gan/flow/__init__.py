"""Motion of recorded frames: estimated optical flow (DIS + forward-backward check), the
static scene's flow from depth and camera motion, camera poses from ``/tf``.

numpy + OpenCV only (no torch, no ROS): shared by training (flow for the temporal loss of
recordings without it) and evaluation (warping error of such recordings).

Modules: ``camera`` (:class:`Camera`), ``estimate`` (:class:`FlowEstimator`),
``geometry`` (depth/pose flow and its fusion with image flow), ``parts`` (each labelled
part's own rigid motion from depth, on top of the static flow), ``tf_poses``
(:class:`TfBuffer`: camera poses from /tf and /tf_static).
"""

from sim2real_gan.flow.camera import Camera
from sim2real_gan.flow.estimate import FlowEstimator, fb_consistent

__all__ = ["Camera", "FlowEstimator", "fb_consistent"]
