"""Simulator configuration, class ids and label colours.

Class ids follow Pfeiffer et al. 2019 and are fixed by docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

BACKGROUND, LIVER, FAT, WALL, LIGAMENT, GALLBLADDER, SHAFT, TIP = range(8)
CLASS_NAMES: tuple[str, ...] = (
    "background",
    "liver",
    "fat",
    "abdominal_wall",
    "ligament",
    "gallbladder",
    "instrument_shaft",
    "instrument_tip",
)
NUM_CLASSES = len(CLASS_NAMES)

APPEARANCES: tuple[str, ...] = ("sim", "real")
LIGHTINGS: tuple[str, ...] = ("camera", "world")
FIELD_STOPS: tuple[str, ...] = ("circle", "octagon", "none")
# The on/off switches of RealLookConfig (its other fields: field_stop, distortion).
LOOK_SWITCHES: tuple[str, ...] = ("vignetting", "sensor_noise", "auto_exposure", "specular",
                                  "tissue_detail", "fat_lobules", "blood", "smoke", "lens_blur")
FRAME_ID = "endoscope_optical_frame"
EYE_FRAME_IDS = {"left": "endoscope_left_optical_frame",
                 "right": "endoscope_right_optical_frame"}
DEFAULT_NS = {"sim": "/sim/camera", "real": "/real/camera"}

# Colours for showing labels to a person (preview strips, reports); not the sim albedo.
LABEL_COLORS = np.array(
    [
        (0, 0, 0),
        (170, 40, 40),
        (240, 210, 60),
        (230, 140, 170),
        (120, 220, 230),
        (60, 180, 60),
        (70, 90, 230),
        (240, 120, 20),
    ],
    dtype=np.uint8,
)


@dataclass(frozen=True)
class RealLookConfig:
    """Switches of the ``real`` appearance (the footage stand-in); defaults = what typical
    laparoscopic footage shows. Per-sequence amounts (radius of the field stop, strength of
    the vignetting, noise level, ...) are drawn from the seed; these only turn effects on/off.

    Attributes:
        field_stop: shape of the scope's content area: ``"circle"``, ``"octagon"`` or
            ``"none"`` (whole image). Outside it the image is black (``Frame.content_mask``).
        vignetting: radial darkening towards the rim of the content area.
        distortion: plumb_bob ``k1`` of a barrel distortion (< 0) applied to the ``real``
            image only, 0 = off (the default). The labels, depth, UV and flow of a frame stay
            those of the undistorted pinhole view, so with distortion on the ``real`` images are
            unlabelled footage stand-ins (the bag writer then writes only their image and
            camera_info, the latter with ``D = [k1, 0, 0, 0, 0]``). In [-0.5, 0].
        sensor_noise: per-frame sensor noise (stronger when auto-exposure raises the gain).
        auto_exposure: per-frame gain that pulls the mean brightness of the content area to
            the sequence's target (instantaneous, so frames stay random-access).
        specular: wet-tissue highlights from the light on the scope tip (and metal lobes).
        tissue_detail: fine fibrous texture and capillaries (physically sized, ~0.25 mm texels).
        fat_lobules: lobular fat (cells of about 3-4 mm with septa), bumpy and glossy.
        blood: blood stains on tissue.
        smoke: intermittent cautery smoke haze (off by default: the sim input has no smoke, so
            a translator trained towards it would have to invent it).
        lens_blur: slight Gaussian lens blur.
    """

    field_stop: str = "circle"
    vignetting: bool = True
    distortion: float = 0.0
    sensor_noise: bool = True
    auto_exposure: bool = True
    specular: bool = True
    tissue_detail: bool = True
    fat_lobules: bool = True
    blood: bool = True
    smoke: bool = False
    lens_blur: bool = True

    def __post_init__(self) -> None:
        if self.field_stop not in FIELD_STOPS:
            raise ValueError(f"RealLookConfig.field_stop must be one of {FIELD_STOPS}, "
                             f"got {self.field_stop!r}")
        if not (isinstance(self.distortion, int | float) and -0.5 <= self.distortion <= 0.0):
            raise ValueError(f"RealLookConfig.distortion (k1, barrel) must be in [-0.5, 0], "
                             f"got {self.distortion!r}")
        for name in LOOK_SWITCHES:
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"RealLookConfig.{name} must be a bool, "
                                 f"got {getattr(self, name)!r}")


@dataclass(frozen=True)
class StereoConfig:
    """A stereo endoscope: two pinhole eyes with parallel optical axes.

    Attributes:
        baseline_m: distance between the eyes' optical centres (metres), (0, 0.05]; the eyes
            sit at -baseline/2 (left) and +baseline/2 (right) along the scope's x axis.
        convergence_m: None = parallel eyes (disparity fx * B / Z). A distance in metres =
            converged by sensor shift: the principal points move apart by fx * B / convergence
            so that disparity is 0 at that depth - the rectified equivalent of toed-in eyes
            (rows stay aligned; disparity = fx * B / Z - fx * B / convergence).
    """

    baseline_m: float = 0.005
    convergence_m: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.baseline_m, int | float) and 0 < self.baseline_m <= 0.05):
            raise ValueError(f"StereoConfig.baseline_m must be in (0, 0.05] metres, "
                             f"got {self.baseline_m!r}")
        c = self.convergence_m
        if c is not None and not (isinstance(c, int | float) and 0.005 <= c <= 10.0):
            raise ValueError(f"StereoConfig.convergence_m must be None (parallel) or in "
                             f"[0.005, 10] metres, got {c!r}")


@dataclass(frozen=True)
class SimConfig:
    """Everything that shapes a simulated sequence except the seed.

    Attributes:
        width, height: image size in pixels.
        fps: frame rate; stamps are ``start_stamp_ns + index * 1e9 / fps``.
        hfov_deg: horizontal field of view of the pinhole endoscope camera.
        appearances: which RGB renderings each frame carries: ``"sim"`` (flat, game-engine
            look) and/or ``"real"`` (procedural stand-in for real footage).
        instruments: number of instruments (1 or 2); None draws it from the seed.
        breathing: slow rigid breathing motion of the organs (flow accounts for it).
        lighting: ``"camera"`` = point light at the endoscope tip with fall-off over distance
            (the product); ``"world"`` = fixed directional light that does not change with the
            camera (view-independent shading, used to check flow by warping).
        near_m, far_m: ray range in metres; surfaces beyond ``far_m`` are background (class 0).
        start_stamp_ns: stamp of frame 0.
        real: switches of the ``real`` appearance (:class:`RealLookConfig`).
        stereo: None = one camera (``EndoscopeSimulator.frames``); a :class:`StereoConfig` =
            a stereo scope (``EndoscopeSimulator.stereo_frames``).
    """

    width: int = 256
    height: int = 256
    fps: float = 30.0
    hfov_deg: float = 80.0
    appearances: tuple[str, ...] = ("sim",)
    instruments: int | None = None
    breathing: bool = True
    lighting: str = "camera"
    near_m: float = 0.004
    far_m: float = 0.26
    start_stamp_ns: int = 1_700_000_000 * 1_000_000_000
    real: RealLookConfig = field(default_factory=RealLookConfig)
    stereo: StereoConfig | None = None

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            v = getattr(self, name)
            if not isinstance(v, int) or not 8 <= v <= 8192:
                raise ValueError(f"SimConfig.{name} must be an int in [8, 8192], got {v!r}")
        if not (isinstance(self.fps, int | float) and 0 < self.fps <= 10_000):
            raise ValueError(f"SimConfig.fps must be in (0, 10000], got {self.fps!r}")
        if not 10.0 <= self.hfov_deg <= 160.0:
            raise ValueError(f"SimConfig.hfov_deg must be in [10, 160], got {self.hfov_deg!r}")
        apps = tuple(self.appearances)
        if not apps or any(a not in APPEARANCES for a in apps) or len(set(apps)) != len(apps):
            raise ValueError(
                f"SimConfig.appearances must be a non-empty subset of {APPEARANCES}, got {apps!r}"
            )
        object.__setattr__(self, "appearances", apps)
        if self.instruments is not None and self.instruments not in (1, 2):
            raise ValueError(f"SimConfig.instruments must be 1, 2 or None, got {self.instruments!r}")
        if self.lighting not in LIGHTINGS:
            raise ValueError(f"SimConfig.lighting must be one of {LIGHTINGS}, got {self.lighting!r}")
        if not 0 < self.near_m < self.far_m:
            raise ValueError(f"need 0 < near_m < far_m, got near={self.near_m}, far={self.far_m}")
        if self.start_stamp_ns < 0:
            raise ValueError(f"SimConfig.start_stamp_ns must be >= 0, got {self.start_stamp_ns}")
        if not isinstance(self.real, RealLookConfig):
            raise ValueError(f"SimConfig.real must be a RealLookConfig, got {self.real!r}")
        if self.stereo is not None and not isinstance(self.stereo, StereoConfig):
            raise ValueError(f"SimConfig.stereo must be None or a StereoConfig, "
                             f"got {self.stereo!r}")

    @property
    def K(self) -> np.ndarray:  # noqa: N802 (camera symbol)
        """(3,3) float64 intrinsics; square pixels, principal point at the image centre
        (pixel centres at integer coordinates, OpenCV/ROS convention)."""
        fx = 0.5 * self.width / math.tan(math.radians(self.hfov_deg) / 2.0)
        return np.array(
            [[fx, 0.0, (self.width - 1) / 2.0], [0.0, fx, (self.height - 1) / 2.0], [0, 0, 1.0]]
        )

    def stamp_ns(self, index: int) -> int:
        """Stamp of frame ``index`` in nanoseconds (exact integer arithmetic)."""
        return self.start_stamp_ns + round(index * 1e9 / self.fps)


def scene_seed_for(seed: int, appearance: str, paired: bool = False) -> int:
    """Scene seed used by ``simulate`` for one appearance.

    Unpaired data (the default) must not show the same scenes in both domains, so the scene
    seed is a hash of (seed, appearance); ``paired=True`` uses ``seed`` itself for both.
    """
    if appearance not in APPEARANCES:
        raise ValueError(f"appearance must be one of {APPEARANCES}, got {appearance!r}")
    if paired:
        return int(seed)
    digest = hashlib.sha256(f"sim2real_gan/{int(seed)}/{appearance}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def colorize_labels(labels: np.ndarray) -> np.ndarray:
    """uint8 (H,W) class ids -> uint8 (H,W,3) RGB with :data:`LABEL_COLORS`."""
    lab = np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"labels must be (H,W), got shape {lab.shape}")
    return LABEL_COLORS[np.clip(lab, 0, NUM_CLASSES - 1)]
