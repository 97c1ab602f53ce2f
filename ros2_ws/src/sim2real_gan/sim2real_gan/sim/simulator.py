"""EndoscopeSimulator: streams :class:`Frame` objects for one procedural sequence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.appearance import RealLook, RealShader, SimShader
from sim2real_gan.sim.flow import forward_flow
from sim2real_gan.sim.geometry import Geometry
from sim2real_gan.sim.raycast import Raycaster
from sim2real_gan.sim.scene import Scene, SceneState
from sim2real_gan.sim.textures import AtlasLayout, patch_field_atlas, real_atlas, real_palette


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

    def image(self, appearance: str | None = None) -> np.ndarray:
        """RGB of ``appearance`` (default: the only/first one rendered)."""
        if appearance is None:
            return next(iter(self.rgb.values()))
        if appearance not in self.rgb:
            raise KeyError(f"appearance {appearance!r} was not rendered; have {sorted(self.rgb)}")
        return self.rgb[appearance]


class EndoscopeSimulator:
    """A procedural laparoscopic sequence for ``seed`` (the scene seed).

    Example:
        >>> sim = EndoscopeSimulator(SimConfig(width=64, height=48), seed=1)
        >>> f = next(sim.frames(1))
        >>> f.image("sim").shape, f.labels.dtype, f.flow.shape
        ((48, 64, 3), dtype('uint8'), (48, 64, 2))
    """

    def __init__(self, config: C.SimConfig, seed: int):
        if not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**63:
            raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")
        self.config, self.seed = config, int(seed)
        self.scene = Scene(self.seed, config)
        specs = self.scene.primitives
        self.layout = AtlasLayout(tuple(2 if s.label in (C.WALL, C.LIVER) else 1 for s in specs))
        tex = np.random.default_rng([self.seed & 0xFFFFFFFF, self.seed >> 32, 0x7E5])
        self.patch_field = patch_field_atlas(specs, self.layout, tex)
        self.raycaster = Raycaster(specs, config, self.layout.origin, self.layout.scale,
                                   self.patch_field)
        self._shaders: dict[str, SimShader | RealShader] = {}
        self._states: dict[int, SceneState] = {}

    @property
    def K(self) -> np.ndarray:  # noqa: N802
        return self.config.K

    def shader(self, appearance: str):
        """The (lazily built) renderer of one appearance for this sequence."""
        if appearance not in C.APPEARANCES:
            raise ValueError(f"appearance must be one of {C.APPEARANCES}, got {appearance!r}")
        if appearance not in self._shaders:
            if appearance == "sim":
                self._shaders["sim"] = SimShader(self.config)
            else:
                rng = np.random.default_rng([self.seed & 0xFFFFFFFF, self.seed >> 32, 0x8EA1])
                palette = real_palette(rng)
                atlas = real_atlas(self.scene.primitives, self.layout, palette, rng)
                detail_scale = 256.0 * self.layout.size / self.layout.cell  # 1 repeat per cell
                self._shaders["real"] = RealShader(
                    self.config, RealLook.draw(rng), atlas, palette[C.FAT], detail_scale, rng,
                    self.seed)
        return self._shaders[appearance]

    def state(self, index: int) -> SceneState:
        """Poses of everything at frame ``index`` (cached for the last few frames)."""
        st = self._states.get(index)
        if st is None:
            st = self.scene.state(index / self.config.fps)
            self._states = {k: v for k, v in self._states.items() if abs(k - index) <= 2}
            self._states[index] = st
        return st

    def geometry(self, index: int) -> Geometry:
        """Ray-cast of frame ``index`` (including where its points land at index+1)."""
        return self.raycaster.cast(self.state(index), self.state(index + 1))

    def render(self, index: int, geom: Geometry, appearance: str) -> np.ndarray:
        """uint8 (H,W,3) RGB of frame ``index`` (ray-cast ``geom``) in ``appearance``."""
        shader = self.shader(appearance)
        if isinstance(shader, SimShader):
            return shader(geom, self.state(index).cam_R)
        return shader(geom, index)

    def frames(self, count: int | None = None, start: int = 0,
               appearances: tuple[str, ...] | None = None) -> Iterator[Frame]:
        """Yield frames ``start, start+1, ...`` (``count`` of them, or forever if None).

        Memory stays bounded: each frame is ray-cast once, one frame ahead (its depth is
        needed for the flow validity of the previous one). ``appearances`` overrides
        ``config.appearances`` for this call.
        """
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0 or None, got {count}")
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        apps = tuple(appearances) if appearances is not None else self.config.appearances
        for a in apps:
            self.shader(a)
        if count == 0:
            return
        geom = self.geometry(start)
        index = start
        while count is None or index < start + count:
            nxt = self.geometry(index + 1)
            flow, valid = forward_flow(geom, nxt, self.config.near_m)
            yield Frame(
                index=index,
                stamp_ns=self.config.stamp_ns(index),
                rgb={a: self.render(index, geom, a) for a in apps},
                labels=geom.labels,
                depth=geom.depth,
                uv=np.ascontiguousarray(geom.uv.transpose(1, 2, 0)),
                flow=flow,
                flow_valid=valid,
                K=self.config.K,
                cam_pose=self.state(index).cam_pose,
            )
            geom, index = nxt, index + 1
