"""Built-in synthetic endoscope: procedural laparoscopic scenes, two appearances, exact labels.

Every frame of a sequence carries an RGB image in the ``sim`` appearance (flat class colours,
Lambert shading: a game-engine look) and/or the ``real`` appearance (procedural stand-in for
laparoscopic footage: endoscope optics with a black surround, wet highlights, fine tissue
texture; switches in ``RealLookConfig``), plus class labels, metric depth, surface UV,
ground-truth forward optical flow with its validity mask, the camera intrinsics and the
content mask of the ``real`` image. A stereo scope (``StereoConfig``) gives both eyes and
ground-truth disparity with an occlusion mask. The scene is analytic
(ellipsoids and cylinders moving rigidly), ray-cast in closed form over all pixels with
numpy, so every ground-truth quantity is exact and a frame costs a few milliseconds.

API (streaming, bounded memory)::

    from sim2real_gan.sim import EndoscopeSimulator, SimConfig, write_bag

    cfg = SimConfig(width=256, height=256, fps=30.0, appearances=("sim", "real"))
    sim = EndoscopeSimulator(cfg, seed=7)       # seed = scene seed
    for frame in sim.frames(100):                # or frames(None) forever, frames(n, start=k)
        frame.image("sim")    # uint8 (H,W,3) RGB      frame.labels   uint8 (H,W) class ids
        frame.depth           # float32 (H,W) m, 0 = background (nothing within far_m)
        frame.uv              # float32 (H,W,2) in [0,1], fixed on each tissue point
        frame.flow            # float32 (H,W,2) px (dx, dy) to frame index+1
        frame.flow_valid      # bool (H,W): same point visible at index+1 (not occluded)
        frame.K, frame.stamp_ns, frame.index, frame.cam_pose
        frame.content_mask    # bool (H,W): where the real image shows the scene
        frame.ground_truth("real")  # label planes as the real image shows them

    write_bag("out_bag", sim.frames(100), {"sim": "/sim/camera"})   # rosbag2, atomic

    stereo = EndoscopeSimulator(SimConfig(stereo=StereoConfig(baseline_m=0.005)), seed=7)
    for sf in stereo.stereo_frames(100):         # StereoFrame: left, right (Frames),
        sf.disparity, sf.disparity_valid         # float32 px left -> right, bool

- ``SimConfig``: image size, fps, field of view, appearances, number of instruments,
  breathing, lighting (``"camera"``: light at the endoscope tip with fall-off;
  ``"world"``: fixed light, view-independent shading for checks), near/far, first stamp,
  ``real`` (RealLookConfig), ``stereo`` (None or StereoConfig).
- Same (config, seed) -> the same bytes; frames can be produced from any index.
- ``scene_seed_for(seed, appearance, paired)``: unpaired data use different scenes per
  appearance; ``paired=True`` renders both appearances of the same scenes.
- Class ids (``CLASS_NAMES``): 0 background, 1 liver, 2 fat, 3 abdominal wall, 4 ligament,
  5 gallbladder, 6 instrument shaft, 7 instrument tip.

Modules: config (SimConfig, RealLookConfig, StereoConfig, classes), motion (smooth paths),
scene (the procedural scene), raycast (closed-form ray casting), geometry (its per-pixel
result, UV maps), flow (flow validity), textures (atlas), detail (fine physical texture),
appearance (view/light terms, the sim shader), real_shader (the real shader), look
(per-sequence real parameters), optics (field stop, vignetting, exposure, distortion,
noise), smoke, frame (Frame, StereoFrame, GroundTruth), stereo (eyes, disparity), simulator
(EndoscopeSimulator), writers (bag, folder, preview), stereo_writers (stereo bag, folder,
preview), alloc (opt-in malloc tuning for entry points).
Docs: docs/simulator.md.
"""

from sim2real_gan.sim.config import (
    CLASS_NAMES,
    FRAME_ID,
    NUM_CLASSES,
    RealLookConfig,
    SimConfig,
    StereoConfig,
    colorize_labels,
    scene_seed_for,
)
from sim2real_gan.sim.frame import Frame, GroundTruth, StereoFrame
from sim2real_gan.sim.simulator import EndoscopeSimulator
from sim2real_gan.sim.writers import write_bag, write_folder, write_preview

__all__ = [
    "CLASS_NAMES",
    "FRAME_ID",
    "NUM_CLASSES",
    "EndoscopeSimulator",
    "Frame",
    "GroundTruth",
    "RealLookConfig",
    "SimConfig",
    "StereoConfig",
    "StereoFrame",
    "colorize_labels",
    "scene_seed_for",
    "write_bag",
    "write_folder",
    "write_preview",
]
