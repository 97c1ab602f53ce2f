"""Procedural laparoscopic scene: analytic primitives with rigid motion over time.

World frame: metres, z up. The abdominal cavity is an ellipsoid seen from inside (class 3,
with fat patches); organs are ellipsoids resting on its floor (liver lobes, gallbladder, fat
lumps, a thin ligament sheet); each instrument is a long cylinder (shaft, class 6) through a
fixed trocar point on the wall, closed by an ellipsoid clevis and two ellipsoid jaws (class
7). Every primitive moves rigidly (organs: slow breathing; instruments: smooth paths with
occasional fast moves), so a surface point keeps its local coordinates (and its UV) forever
and its position at any time is exact. The endoscope looks down at the organs from the
back of the cavity along a smooth path with occasional quick pans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim2real_gan.sim import config as C
from sim2real_gan.sim.motion import (
    JumpProcess,
    SmoothPath,
    axis_frame,
    look_at,
    random_rotation,
    rot_x,
    rot_z,
    smoothstep,
)

ELLIPSOID, CAVITY, CYLINDER = 0, 1, 2
SHAFT_LENGTH = 0.6  # metres; longer than the cavity, so the far end is always hidden


@dataclass(frozen=True)
class PrimitiveSpec:
    """A primitive's time-invariant description.

    kind: ELLIPSOID | CAVITY (ellipsoid seen from inside) | CYLINDER.
    size: ellipsoid radii (a,b,c) in its local frame; cylinder (radius, s0, s1) along local z.
    label: base class id; ``patches``: class painted in patches on it (or None).
    """

    name: str
    kind: int
    size: tuple[float, float, float]
    label: int
    patches: int | None = None

    @property
    def is_instrument(self) -> bool:
        return self.label in (C.SHAFT, C.TIP)


@dataclass(frozen=True)
class SceneState:
    """All poses at one instant. R: (P,3,3) local->world rotations, c: (P,3) local origins
    in world; cam_R: (3,3) optical->world rotation, cam_p: (3,) camera centre."""

    R: np.ndarray
    c: np.ndarray
    cam_R: np.ndarray
    cam_p: np.ndarray

    @property
    def cam_pose(self) -> np.ndarray:
        """(4,4) T_world_camera (optical frame)."""
        T = np.eye(4)  # noqa: N806
        T[:3, :3], T[:3, 3] = self.cam_R, self.cam_p
        return T

    def eye(self, offset_m: float) -> SceneState:
        """The same instant seen by a camera moved ``offset_m`` metres along the optical x
        axis (a stereo eye; same orientation)."""
        if offset_m == 0.0:
            return self
        return SceneState(self.R, self.c, self.cam_R, self.cam_p + self.cam_R[:, 0] * offset_m)


def _top_z(center: np.ndarray, R: np.ndarray, radii: np.ndarray) -> float:  # noqa: N803
    """Highest world z on an ellipsoid."""
    return float(center[2] + np.linalg.norm(R[2, :] * radii))


class _Instrument:
    """Motion of one instrument: trocar pivot, tip path, roll and jaw opening."""

    def __init__(self, rng: np.random.Generator, trocar: np.ndarray, tip0: np.ndarray, r: float,
                 first: int):
        self.trocar, self.tip0, self.r = trocar, tip0, r
        self.first = first  # id of its shaft; clevis and jaws follow
        self.path = SmoothPath(rng, np.array([0.016, 0.016, 0.006]), (0.08, 0.45))
        self.jumps = JumpProcess(np.random.default_rng(rng.integers(2**63)),
                                 np.array([0.02, 0.02, 0.004]), mean_interval=4.0)
        self.roll = SmoothPath(rng, np.array([1.2]), (0.05, 0.3), terms=2)
        self.open_max = rng.uniform(0.25, 0.7)
        self.open_f, self.open_phase = rng.uniform(0.2, 0.6), rng.uniform(0, 2 * math.pi)

    def poses(self, t: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """(R, origin) for shaft, clevis, jaw 1, jaw 2 at time ``t``."""
        tip = self.tip0 + self.path(t) + self.jumps(t)
        R = axis_frame(tip - self.trocar, float(self.roll(t)[0]))  # noqa: N806
        opening = self.open_max * smoothstep(0.5 + 0.6 * math.sin(2 * math.pi * self.open_f * t
                                                                   + self.open_phase))
        hinge = tip + R[:, 2] * self.r
        out = [(R, tip), (R, tip)]
        for sign in (1.0, -1.0):
            Rj = R @ rot_x(sign * opening / 2)  # noqa: N806
            out.append((Rj, hinge + Rj[:, 2] * 2.8 * self.r))
        return out


class Scene:
    """A random scene for ``seed``; :meth:`state` gives every pose at time ``t`` (seconds).

    Attributes:
        primitives: list of :class:`PrimitiveSpec` (index = primitive id = atlas tile).
    """

    def __init__(self, seed: int, config: C.SimConfig):
        root = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, 0x51A])
        geo, cam, ins, breath = (np.random.default_rng(s) for s in root.spawn(4))
        self.config = config
        self.primitives: list[PrimitiveSpec] = []
        self._R: list[np.ndarray] = []
        self._c0: list[np.ndarray] = []
        self._breath_amp: list[np.ndarray] = []
        self._build_tissue(geo)
        self._build_camera(cam)
        self._build_instruments(ins, config.instruments)
        self._breath_f = breath.uniform(0.18, 0.3)
        self._breath_phase = breath.uniform(0, 2 * math.pi)

    # -- construction -------------------------------------------------------------------
    def _add(self, spec: PrimitiveSpec, R: np.ndarray, c: np.ndarray, breath: float) -> None:  # noqa: N803
        self.primitives.append(spec)
        self._R.append(R)
        self._c0.append(np.asarray(c, dtype=np.float64))
        self._breath_amp.append(np.array([0.3, 0.0, 1.0]) * breath)

    def _build_tissue(self, rng: np.random.Generator) -> None:
        """Cholecystectomy-like layout: the liver's lower edge across the far half of the
        cavity, the gallbladder under that edge, fat lumps in front of it on the floor, a
        ligament sheet from the wall onto the liver."""
        cav = np.array([rng.uniform(0.2, 0.26), rng.uniform(0.14, 0.18), rng.uniform(0.085, 0.1)])
        self._add(PrimitiveSpec("abdominal_wall", CAVITY, tuple(cav), C.WALL, C.FAT),
                  random_rotation(rng, 0.1, 0.03), np.zeros(3), 0.002)
        floor = -cav[2]
        self._solids: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        lc = np.array([rng.uniform(0.05, 0.09), rng.uniform(-0.03, 0.03), floor + rng.uniform(0.02, 0.04)])
        for k in range(int(rng.integers(1, 3))):  # long axis across (world y)
            radii = np.array([rng.uniform(0.13, 0.17), rng.uniform(0.07, 0.1), rng.uniform(0.035, 0.05)])
            c = lc if k == 0 else lc + np.array([rng.uniform(0.0, 0.03), rng.choice([-1, 1]) * rng.uniform(0.06, 0.1),
                                                 rng.uniform(-0.01, 0.01)])
            R = rot_z(math.pi / 2) @ random_rotation(rng, 0.3, 0.12)  # noqa: N806
            self._add(PrimitiveSpec(f"liver_{k}", ELLIPSOID, tuple(radii), C.LIVER), R, c, 0.003)
            self._solids.append((c, R, radii))
        lR, lr = self._solids[0][1], self._solids[0][2]  # noqa: N806
        edge = lc - np.array([np.linalg.norm(lR[0, :] * lr), 0.0, 0.0])  # nearest liver point in x
        self.liver_edge = edge
        if rng.random() < 0.85:
            radii = np.array([rng.uniform(0.03, 0.045), rng.uniform(0.015, 0.022), rng.uniform(0.014, 0.02)])
            c = edge + np.array([rng.uniform(0.005, 0.02), rng.uniform(-0.03, 0.03), -rng.uniform(0.005, 0.015)])
            R = random_rotation(rng, 0.5, 0.3)  # noqa: N806
            self._add(PrimitiveSpec("gallbladder", ELLIPSOID, tuple(radii), C.GALLBLADDER, C.FAT), R, c, 0.0025)
            self._solids.append((c, R, radii))
        cluster = edge + np.array([-rng.uniform(0.01, 0.04), rng.uniform(-0.04, 0.04), 0.0])
        for k in range(int(rng.integers(3, 8))):
            radii = rng.uniform(0.007, 0.018, size=3) * np.array([1.4, 1.0, 0.6])
            c = cluster + rng.normal(0, 0.015, 3) * [1.0, 1.8, 0.0]
            c[2] = floor + rng.uniform(0.0, 0.015)
            R = random_rotation(rng, math.pi, 0.4)  # noqa: N806
            self._add(PrimitiveSpec(f"fat_{k}", ELLIPSOID, tuple(radii), C.FAT), R, c, 0.002)
            self._solids.append((c, R, radii))
        if rng.random() < 0.6:  # falciform-like sheet hanging from the wall onto the liver
            low = _top_z(lc, lR, lr) - 0.01
            high = cav[2] + 0.01
            radii = np.array([rng.uniform(0.03, 0.05), rng.uniform(0.003, 0.0045), (high - low) / 2])
            c = np.array([lc[0] + rng.uniform(-0.01, 0.03), rng.choice([-1, 1]) * rng.uniform(0.015, 0.05),
                          (high + low) / 2])
            R = random_rotation(rng, 0.4, 0.05)  # noqa: N806
            self._add(PrimitiveSpec("ligament", ELLIPSOID, tuple(radii), C.LIGAMENT), R, c, 0.003)
            self._solids.append((c, R, radii))
        self.cavity_radii = cav

    def _build_camera(self, rng: np.random.Generator) -> None:
        edge = self.liver_edge
        self.cam_g0 = edge + np.array([rng.uniform(-0.02, 0.02), rng.uniform(-0.03, 0.03),
                                       rng.uniform(-0.025, 0.0)])
        p = edge + np.array([-rng.uniform(0.08, 0.12), rng.uniform(-0.025, 0.025), rng.uniform(0.02, 0.05)])
        while any(_inside(p, c, R, r + 0.03) for c, R, r in self._solids):  # noqa: N806
            p = p + np.array([-0.01, 0.0, 0.004])  # back off (with motion margin) until clear
        self.cam_p0 = p
        self.cam_path = SmoothPath(rng, np.array([0.012, 0.012, 0.007]))
        self.cam_look = SmoothPath(rng, np.array([0.02, 0.025, 0.008]))
        self.cam_roll = SmoothPath(rng, np.array([0.3]), (0.03, 0.15), terms=2)
        self.cam_jumps = JumpProcess(np.random.default_rng(rng.integers(2**63)),
                                     np.array([0.03, 0.035, 0.008]), mean_interval=3.0)

    def _build_instruments(self, rng: np.random.Generator, count: int | None) -> None:
        n = int(rng.integers(1, 3)) if count is None else count
        self._instruments: list[_Instrument] = []
        a, b, c = self.cavity_radii
        for i in range(n):
            for _ in range(50):  # keep the shaft away from the endoscope
                side = 1.0 if i == 0 else -1.0
                az = side * rng.uniform(math.radians(55), math.radians(120))
                el = rng.uniform(math.radians(20), math.radians(50))
                trocar = np.array([a * math.cos(el) * math.cos(az), b * math.cos(el) * math.sin(az),
                                   c * math.sin(el)]) * 0.97
                tip0 = self.cam_g0 + np.array([rng.uniform(-0.02, 0.03),
                                               side * rng.uniform(0.005, 0.025), rng.uniform(0.015, 0.028)])
                if _point_segment_distance(self.cam_p0, trocar, tip0) > 0.03:
                    break
            r = rng.uniform(0.0025, 0.0045)
            first = len(self.primitives)
            self._add(PrimitiveSpec(f"shaft_{i}", CYLINDER, (r, -SHAFT_LENGTH, 0.0), C.SHAFT), np.eye(3), tip0, 0)
            self._add(PrimitiveSpec(f"clevis_{i}", ELLIPSOID, (r, r, 1.8 * r), C.TIP), np.eye(3), tip0, 0)
            for j in range(2):
                self._add(PrimitiveSpec(f"jaw_{i}_{j}", ELLIPSOID, (0.55 * r, 0.35 * r, 2.8 * r), C.TIP),
                          np.eye(3), tip0, 0)
            self._instruments.append(_Instrument(rng, trocar, tip0, r, first))

    # -- evaluation ---------------------------------------------------------------------
    @property
    def num_instruments(self) -> int:
        return len(self._instruments)

    def state(self, t: float) -> SceneState:
        """Poses of every primitive and of the camera at time ``t`` (seconds)."""
        breath = math.sin(2 * math.pi * self._breath_f * t + self._breath_phase)
        if not self.config.breathing:
            breath = 0.0
        R = np.stack(self._R)  # noqa: N806
        c = np.stack(self._c0) + breath * np.stack(self._breath_amp)
        for inst in self._instruments:
            for k, (Rk, ck) in enumerate(inst.poses(t)):  # noqa: N806
                R[inst.first + k], c[inst.first + k] = Rk, ck
        pos = self.cam_p0 + self.cam_path(t)
        target = self.cam_g0 + self.cam_look(t) + self.cam_jumps(t)
        return SceneState(R=R, c=c, cam_R=look_at(pos, target, float(self.cam_roll(t)[0])), cam_p=pos)


def _inside(p: np.ndarray, c: np.ndarray, R: np.ndarray, radii: np.ndarray) -> bool:  # noqa: N803
    q = (R.T @ (p - c)) / radii
    return bool(q @ q < 1.0)


def _point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    s = float(np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + s * ab)))
