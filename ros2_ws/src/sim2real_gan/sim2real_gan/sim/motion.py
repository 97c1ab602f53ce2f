"""Smooth, deterministic motion signals of time (camera and instrument paths).

Every signal is an analytic function of time ``t`` (seconds), so any frame can be rendered
without replaying earlier ones, and the pose at t+1/fps needed for ground-truth flow is exact.
"""

from __future__ import annotations

import bisect
import math

import numpy as np


def smoothstep(x: float) -> float:
    """C1 ease in/out on [0, 1] (clamped outside)."""
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


class SmoothPath:
    """Sum of sinusoids: ``sum_k a_k * sin(2 pi f_k t + phi_k)`` with vector amplitudes.

    Args:
        rng: source of the random frequencies, phases and amplitudes.
        amplitude: (D,) per-axis amplitude of the whole signal (roughly its peak).
        freq_range: (low, high) frequencies in Hz.
        terms: number of sinusoids.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        amplitude: np.ndarray,
        freq_range: tuple[float, float] = (0.05, 0.35),
        terms: int = 3,
    ):
        amp = np.asarray(amplitude, dtype=np.float64)
        self.freq = rng.uniform(*freq_range, size=(terms, 1))
        self.phase = rng.uniform(0, 2 * math.pi, size=(terms, amp.size))
        weights = rng.uniform(0.5, 1.0, size=(terms, amp.size))
        self.amp = weights / weights.sum(axis=0, keepdims=True) * amp

    def __call__(self, t: float) -> np.ndarray:
        """(D,) value at time ``t``."""
        return (self.amp * np.sin(2 * math.pi * self.freq * t + self.phase)).sum(axis=0)


class JumpProcess:
    """Piecewise-constant offset with occasional fast, smooth transitions ("quick pans").

    Events are drawn lazily in time order from a private generator, so the value at any
    time does not depend on which times were queried before.

    Args:
        rng: private generator (not shared with anything else).
        box: (D,) half-size of the box the offset stays in.
        mean_interval: mean seconds between the starts of two jumps.
        duration: (low, high) seconds a jump takes.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        box: np.ndarray,
        mean_interval: float = 3.0,
        duration: tuple[float, float] = (0.2, 0.45),
    ):
        self._rng = rng
        self._box = np.asarray(box, dtype=np.float64)
        self._mean = mean_interval
        self._dur = duration
        self._starts: list[float] = []
        self._events: list[tuple[float, np.ndarray, np.ndarray]] = []  # (dur, from, to)
        self._horizon = 0.0
        self._value = np.zeros_like(self._box)

    def _extend(self, t: float) -> None:
        while self._horizon <= t:
            start = self._horizon + self._rng.exponential(self._mean)
            dur = self._rng.uniform(*self._dur)
            target = self._rng.uniform(-1.0, 1.0, size=self._box.shape) * self._box
            self._starts.append(start)
            self._events.append((dur, self._value, target))
            self._value = target
            self._horizon = start + dur

    def __call__(self, t: float) -> np.ndarray:
        """(D,) offset at time ``t``."""
        self._extend(t)
        k = bisect.bisect_right(self._starts, t) - 1
        if k < 0:
            return np.zeros_like(self._box)
        dur, src, dst = self._events[k]
        s = smoothstep((t - self._starts[k]) / dur)
        return src + (dst - src) * s


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of two 3-vectors (np.cross is slow for tiny inputs)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                     a[0] * b[1] - a[1] * b[0]])


def look_at(position: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """Rotation (3,3) whose columns are the optical frame axes in world coordinates.

    Optical frame (REP 103): x right, y down, z forward; world z is up.
    """
    z = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    z /= np.linalg.norm(z)
    up = np.array([0.0, 0.0, 1.0])
    x = _cross(z, up)
    if np.linalg.norm(x) < 1e-6:  # looking straight up/down: any right vector will do
        x = _cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = _cross(z, x)
    c, s = math.cos(roll), math.sin(roll)
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=1)


def axis_frame(axis: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """Rotation (3,3) whose third column is ``axis`` (normalised), rolled by ``roll`` about it."""
    z = np.asarray(axis, dtype=np.float64)
    z = z / np.linalg.norm(z)
    helper = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = _cross(helper, z)
    x /= np.linalg.norm(x)
    y = _cross(z, x)
    c, s = math.cos(roll), math.sin(roll)
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=1)


def rot_x(angle: float) -> np.ndarray:
    """Rotation (3,3) about the x axis."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def rot_z(angle: float) -> np.ndarray:
    """Rotation (3,3) about the z axis."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def random_rotation(rng: np.random.Generator, yaw: float, tilt: float) -> np.ndarray:
    """Rotation with uniform yaw in [-yaw, yaw] about z and small tilts up to ``tilt``."""
    a, b, c = rng.uniform(-1, 1, size=3) * (yaw, tilt, tilt)
    cb, sb = math.cos(b), math.sin(b)
    ry = np.array([[cb, 0, sb], [0, 1.0, 0], [-sb, 0, cb]])
    return rot_z(a) @ ry @ rot_x(c)
