"""Camera poses from a recording's ``/tf`` and ``/tf_static`` (tf2_msgs/TFMessage).

:class:`TfBuffer` keeps every transform parent -> child over time; ``pose(frame, stamp)``
composes the chain from the tree's root down to ``frame`` at a header stamp, each
dynamic link interpolated between its two nearest samples (translation linearly, rotation
by normalised quaternion interpolation; at most ``MAX_GAP_NS`` outside the samples).

The camera frame is ``tf_frame`` when given, else the image header's ``frame_id`` when
/tf knows it, else the only leaf frame that moves (nothing below it, a moving link above). Gazebo's links
follow the body convention (x forward, y left, z up); a camera image is in the optical
convention (z forward, x right, y down): :data:`BODY_TO_OPTICAL` turns one into the other,
applied unless the frame is named ``*optical*`` (``tf_convention`` overrides).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_GAP_NS = 50_000_000
#: T_body_optical: optical axes (x right, y down, z forward) in body axes (x fwd, y left, z up)
BODY_TO_OPTICAL = np.array([[0, 0, 1, 0], [-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]], float)
CONVENTIONS = ("auto", "optical", "body")


def _quat_to_rot(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _matrix(t: np.ndarray, q: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = _quat_to_rot(q)
    m[:3, 3] = t
    return m


@dataclass
class _Link:
    parent: str
    stamps: list[int] = field(default_factory=list)
    trans: list[np.ndarray] = field(default_factory=list)
    quats: list[np.ndarray] = field(default_factory=list)
    static: bool = False

    def at(self, stamp: int) -> np.ndarray | None:
        s = np.asarray(self.stamps)
        if self.static or len(s) == 1:
            return _matrix(self.trans[-1], self.quats[-1]) if (
                self.static or abs(int(s[0]) - stamp) <= MAX_GAP_NS) else None
        i = int(np.searchsorted(s, stamp))
        if i == 0 or i == len(s):
            j = 0 if i == 0 else len(s) - 1
            return _matrix(self.trans[j], self.quats[j]) if abs(int(s[j]) - stamp) <= MAX_GAP_NS \
                else None
        a = (stamp - s[i - 1]) / max(1, s[i] - s[i - 1])
        q0, q1 = self.quats[i - 1], self.quats[i]
        q1 = -q1 if np.dot(q0, q1) < 0 else q1
        return _matrix((1 - a) * self.trans[i - 1] + a * self.trans[i], (1 - a) * q0 + a * q1)


class TfBuffer:
    """All transforms of a recording (see module docstring)."""

    def __init__(self) -> None:
        self.links: dict[str, _Link] = {}

    def add(self, msg, static: bool = False) -> None:
        """Add a decoded tf2_msgs/TFMessage."""
        from sim2real_gan.io.ros_types import stamp_to_ns

        for tf in msg.transforms:
            child = tf.child_frame_id.lstrip("/")
            link = self.links.setdefault(child, _Link(tf.header.frame_id.lstrip("/")))
            link.static |= static
            tr, ro = tf.transform.translation, tf.transform.rotation
            link.stamps.append(stamp_to_ns(tf.header.stamp))
            link.trans.append(np.array([tr.x, tr.y, tr.z], float))
            link.quats.append(np.array([ro.x, ro.y, ro.z, ro.w], float))

    def finish(self) -> None:
        """Sort every link's samples by stamp (messages may arrive out of order)."""
        for link in self.links.values():
            order = np.argsort(np.asarray(link.stamps), kind="stable")
            link.stamps = [link.stamps[i] for i in order]
            link.trans = [link.trans[i] for i in order]
            link.quats = [link.quats[i] for i in order]

    def moving_frames(self) -> list[str]:
        """Frames whose transform to their parent changes over time."""
        out = []
        for name, link in self.links.items():
            if not link.static and len(link.stamps) > 1 and (
                    np.ptp(np.stack(link.trans), axis=0).max() > 1e-9
                    or np.ptp(np.stack(link.quats), axis=0).max() > 1e-9):
                out.append(name)
        return sorted(out)

    def moving_leaves(self) -> list[str]:
        """Frames nothing hangs below whose chain to the root contains a moving link:
        where a sensor sits on a moving robot or model."""
        moving, parents = set(self.moving_frames()), {lk.parent for lk in self.links.values()}
        out = []
        for name in self.links:
            if name in parents:
                continue
            chain, cur = set(), name
            while cur in self.links and cur not in chain:
                chain.add(cur)
                cur = self.links[cur].parent
            if chain & moving:
                out.append(name)
        return sorted(out)

    def pose(self, frame: str, stamp: int) -> np.ndarray | None:
        """T_root_frame (4,4) at ``stamp`` (ns), or None when a link has no sample near it."""
        m, name, seen = np.eye(4), frame.lstrip("/"), set()
        while name in self.links and name not in seen:
            seen.add(name)
            t = self.links[name].at(stamp)
            if t is None:
                return None
            m = t @ m
            name = self.links[name].parent
        return m


def camera_frame(buf: TfBuffer, header_frame: str, tf_frame: str, where: str) -> str | None:
    """Which /tf frame is the camera (module docstring), or None when it cannot be told."""
    if tf_frame:
        if tf_frame.lstrip("/") not in buf.links:
            raise ValueError(f"{where}: tf_frame {tf_frame!r} is not in /tf; its frames: "
                             f"{sorted(buf.links)}")
        return tf_frame.lstrip("/")
    if header_frame.lstrip("/") in buf.links:
        return header_frame.lstrip("/")
    leaves = buf.moving_leaves()
    return leaves[0] if len(leaves) == 1 else None


def optical_pose(t_root_frame: np.ndarray, frame: str, convention: str) -> np.ndarray:
    """T_root_camera in the optical convention from a /tf frame's pose."""
    if convention not in CONVENTIONS:
        raise ValueError(f"tf_convention: expected one of {CONVENTIONS}, got {convention!r}")
    optical = convention == "optical" or (convention == "auto" and "optical" in frame.lower())
    return t_root_frame if optical else t_root_frame @ BODY_TO_OPTICAL
