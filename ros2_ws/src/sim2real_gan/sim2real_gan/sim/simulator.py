"""EndoscopeSimulator: streams :class:`Frame` objects (mono scope) or :class:`StereoFrame`
objects (stereo scope) for one procedural sequence."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim import stereo as S
from sim2real_gan.sim.appearance import SimShader
from sim2real_gan.sim.detail import detail_scales
from sim2real_gan.sim.flow import forward_flow
from sim2real_gan.sim.frame import Frame, GroundTruth, StereoFrame
from sim2real_gan.sim.geometry import Geometry
from sim2real_gan.sim.look import RealLook
from sim2real_gan.sim.optics import Optics, field_stop
from sim2real_gan.sim.raycast import Raycaster
from sim2real_gan.sim.real_shader import RealShader
from sim2real_gan.sim.scene import Scene, SceneState
from sim2real_gan.sim.smoke import Smoke
from sim2real_gan.sim.textures import AtlasLayout, patch_field_atlas, real_atlas, real_palette

__all__ = ["EndoscopeSimulator", "Frame", "GroundTruth", "StereoFrame"]


def _rng(seed: int, *tag: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, *tag])


class _Eye:
    """One camera of the scope: its intrinsics, offset from the scope axis (m), the scope
    light in its own frame, its ray caster and its (lazily built) shaders."""

    def __init__(self, name: str, number: int, K: np.ndarray, offset_m: float,  # noqa: N803
                 raycaster: Raycaster):
        self.name, self.number, self.K, self.offset_m = name, number, K, offset_m
        self.light = np.array([-offset_m, 0.0, 0.0])
        self.raycaster = raycaster
        self.shaders: dict[str, SimShader | RealShader] = {}


class EndoscopeSimulator:
    """A procedural laparoscopic sequence for ``seed`` (the scene seed).

    Mono scope (``config.stereo is None``): :meth:`frames`. Stereo scope: :meth:`stereo_frames`.

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
        self.patch_field = patch_field_atlas(specs, self.layout, _rng(self.seed, 0x7E5))
        self.look = RealLook.draw(_rng(self.seed, 0x1007))
        opts = config.real
        self.content_mask = field_stop(config.width, config.height, opts.field_stop,
                                       self.look.stop_radius, self.look.stop_center) >= 0.5
        self.content_mask.setflags(write=False)
        if config.stereo is None:
            cams = [("mono", config.K, 0.0)]
        else:
            ks, offs = S.eye_intrinsics(config), S.eye_offsets(config.stereo)
            cams = [(e, ks[e], offs[e]) for e in S.EYES]
        self.eyes = [_Eye(name, i, K, off, Raycaster(specs, config, self.layout.origin,
                                                     self.layout.scale, self.patch_field, K))
                     for i, (name, K, off) in enumerate(cams)]
        self.raycaster = self.eyes[0].raycaster
        self._real_assets: tuple | None = None
        self._states: dict[int, SceneState] = {}

    @property
    def K(self) -> np.ndarray:  # noqa: N802
        """(3,3) intrinsics of the (first) camera."""
        return self.eyes[0].K

    def _eye(self, eye: str | None) -> _Eye:
        if eye is None:
            return self.eyes[0]
        for e in self.eyes:
            if e.name == eye:
                return e
        raise ValueError(f"eye must be one of {[e.name for e in self.eyes]}, got {eye!r}")

    def _assets(self) -> tuple:
        """(atlas, fat colour, detail scales, smoke) of the real appearance, built once."""
        if self._real_assets is None:
            rng = _rng(self.seed, 0x8EA1)
            palette = real_palette(rng)
            atlas = real_atlas(self.scene.primitives, self.layout, palette, rng,
                               self.config.real.blood)
            specs = self.scene.primitives
            scales = detail_scales(specs, self.layout.scale,
                                   np.array([not s.is_instrument for s in specs]))
            smoke = (Smoke(self.seed, self.config.width, self.config.height,
                           _rng(self.seed, 0x5A0E)) if self.config.real.smoke else None)
            self._real_assets = (atlas, palette[C.FAT], scales, smoke)
        return self._real_assets

    def shader(self, appearance: str, eye: str | None = None) -> SimShader | RealShader:
        """The (lazily built) renderer of one appearance for one camera (default: the first)."""
        if appearance not in C.APPEARANCES:
            raise ValueError(f"appearance must be one of {C.APPEARANCES}, got {appearance!r}")
        e = self._eye(eye)
        if appearance not in e.shaders:
            if appearance == "sim":
                e.shaders["sim"] = SimShader(self.config, e.K, e.light)
            else:
                atlas, fat, scales, smoke = self._assets()
                optics = Optics(self.config, self.look, e.K, _rng(self.seed, 0x0F7, e.number))
                e.shaders["real"] = RealShader(
                    self.config, self.look, optics, atlas, fat, scales, e.K, e.light,
                    (self.seed & 0xFFFFFFFF, self.seed >> 32, e.number), smoke)
        return e.shaders[appearance]

    def state(self, index: int) -> SceneState:
        """Poses of everything (the scope's camera) at frame ``index`` (cached nearby)."""
        st = self._states.get(index)
        if st is None:
            st = self.scene.state(index / self.config.fps)
            self._states = {k: v for k, v in self._states.items() if abs(k - index) <= 2}
            self._states[index] = st
        return st

    def geometry(self, index: int, eye: str | None = None) -> Geometry:
        """Ray-cast of frame ``index`` by one camera (including where its points land at
        index+1)."""
        e = self._eye(eye)
        return e.raycaster.cast(self.state(index).eye(e.offset_m),
                                self.state(index + 1).eye(e.offset_m))

    def render(self, index: int, geom: Geometry, appearance: str,
               eye: str | None = None) -> np.ndarray:
        """uint8 (H,W,3) RGB of frame ``index`` (ray-cast ``geom``) in ``appearance``."""
        e = self._eye(eye)
        shader = self.shader(appearance, e.name)
        if isinstance(shader, SimShader):
            return shader(geom, self.state(index).cam_R)
        return shader(geom, index)

    def _check(self, count: int | None, start: int, appearances: tuple[str, ...] | None,
               stereo: bool) -> tuple[str, ...]:
        if (self.config.stereo is not None) != stereo:
            raise ValueError("this simulator has a stereo scope (SimConfig.stereo): use "
                             "stereo_frames()" if not stereo else
                             "stereo_frames() needs SimConfig.stereo (a StereoConfig)")
        if count is not None and count < 0:
            raise ValueError(f"count must be >= 0 or None, got {count}")
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        apps = tuple(appearances) if appearances is not None else self.config.appearances
        for a in apps:
            for e in self.eyes:
                self.shader(a, e.name)
        return apps

    def _frame(self, e: _Eye, index: int, geom: Geometry, nxt: Geometry,
               apps: tuple[str, ...]) -> Frame:
        flow, valid = forward_flow(geom, nxt, self.config.near_m)
        real = e.shaders.get("real") if "real" in apps else None
        bent = (real.optics.K.copy(), real.optics.distortion) if (
            isinstance(real, RealShader) and self.config.real.distortion) else None
        return Frame(
            index=index, stamp_ns=self.config.stamp_ns(index),
            rgb={a: self.render(index, geom, a, e.name) for a in apps},
            labels=geom.labels, depth=geom.depth,
            uv=np.ascontiguousarray(geom.uv.transpose(1, 2, 0)),
            flow=flow, flow_valid=valid, K=e.K.copy(),
            cam_pose=self.state(index).eye(e.offset_m).cam_pose,
            content_mask=self.content_mask,
            real_camera=bent)

    def frames(self, count: int | None = None, start: int = 0,
               appearances: tuple[str, ...] | None = None) -> Iterator[Frame]:
        """Yield frames ``start, start+1, ...`` (``count`` of them, or forever if None).

        Memory stays bounded: each frame is ray-cast once, one frame ahead (its depth is
        needed for the flow validity of the previous one). ``appearances`` overrides
        ``config.appearances`` for this call. Mono scope only.
        """
        apps = self._check(count, start, appearances, stereo=False)
        if count == 0:
            return
        e = self.eyes[0]
        geom, index = self.geometry(start), start
        while count is None or index < start + count:
            nxt = self.geometry(index + 1)
            yield self._frame(e, index, geom, nxt, apps)
            geom, index = nxt, index + 1

    def stereo_frames(self, count: int | None = None, start: int = 0,
                      appearances: tuple[str, ...] | None = None) -> Iterator[StereoFrame]:
        """Like :meth:`frames` for a stereo scope: both eyes at each index (one stamp), with
        ground-truth disparity left -> right and its validity (stereo.py)."""
        apps = self._check(count, start, appearances, stereo=True)
        if count == 0:
            return
        left, right = self.eyes
        base = self.config.stereo.baseline_m
        gl, gr, index = self.geometry(start, "left"), self.geometry(start, "right"), start
        while count is None or index < start + count:
            nl, nr = self.geometry(index + 1, "left"), self.geometry(index + 1, "right")
            d, dv = S.disparity(gl, gr, left.K, right.K, base, self.config.near_m)
            yield StereoFrame(self._frame(left, index, gl, nl, apps),
                              self._frame(right, index, gr, nr, apps), d, dv, base)
            gl, gr, index = nl, nr, index + 1
