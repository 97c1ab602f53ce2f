"""Stand-ins for a user's own data, made from the built-in simulator.

- :func:`write_gazebo_bag`: a rosbag2 shaped like a ``ros_gz_bridge`` recording of the
  Gazebo endoscope of docs/gazebo.md: ``image`` rgb8, ``camera_info``, the segmentation
  camera's ``labels_map`` (rgb8, the class id in all three channels, as Gazebo's semantic
  mode writes it), ``depth`` 32FC1 metres with ``+inf`` where nothing is in range,
  ``/clock`` (rosgraph_msgs/Clock), ``/tf`` (tf2_msgs/TFMessage: world -> endoscope, the
  model's pose at each frame) and ``/tf_static`` (endoscope -> endoscope/tip, the link that
  carries the camera, in Gazebo's link axes: x forward, y left, z up).
  Header stamps are simulation time (starting near 0 s, as Gazebo's), bag receive times are
  wall-clock-like, each sensor has its own Gazebo-style frame id; no flow, no UV.
- :func:`write_footage`: an MP4 like an endoscope tower's recording: the simulator's
  ``real`` rendering inside a black circular or octagonal surround, with burned-in date/time
  and "OR 3" text.

Both are for tests, CI and trying the product without Gazebo or a hospital.
``python -m sim2real_gan.sim.gazebo_like bag OUT`` / ``... footage OUT.mp4`` write them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sim2real_gan.sim.config import RealLookConfig, SimConfig, scene_seed_for
from sim2real_gan.sim.simulator import EndoscopeSimulator, Frame

#: topic suffixes under the namespace: Gazebo's own names, or renamed by the bridge
#: (docs/gazebo.md ``endoscope_bridge.yaml``).
LAYOUTS: dict[str, dict[str, str]] = {
    "gz": {"image": "image", "camera_info": "camera_info", "labels": "seg/labels_map",
           "depth": "depth"},
    "bridge": {"image": "image_raw", "camera_info": "camera_info", "labels": "segmentation",
               "depth": "depth"},
}
#: Gazebo names a sensor's frame ``model::link::sensor`` unless ``gz_frame_id`` is set.
FRAME_IDS = {"image": "endoscope::tip::rgb", "camera_info": "endoscope::tip::rgb",
             "labels": "endoscope::tip::seg", "depth": "endoscope::tip::depth"}
SIM_START_NS = 500_000_000        # first camera frame at 0.5 s simulation time
WALL_START_NS = 1_767_225_600 * 1_000_000_000  # bag receive times: 2026-01-01 (wall clock)
CLOCKS_PER_FRAME = 4
#: /tf_static endoscope -> endoscope/tip: the tip link 4 cm ahead of the model origin
TIP_OFFSET = np.array([[1, 0, 0, 0.04], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], float)
#: T_link_optical: optical axes (x right, y down, z forward) in link axes (x fwd, y left, z up)
BODY_TO_OPTICAL = np.array([[0, 0, 1, 0], [-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]], float)


def quaternion_xyzw(rot: np.ndarray) -> np.ndarray:
    """(3,3) rotation matrix -> unit quaternion (x, y, z, w), w >= 0."""
    m = np.asarray(rot, np.float64)
    w = np.sqrt(max(0.0, 1.0 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = np.sqrt(max(0.0, 1.0 + m[0, 0] - m[1, 1] - m[2, 2])) / 2
    y = np.sqrt(max(0.0, 1.0 - m[0, 0] + m[1, 1] - m[2, 2])) / 2
    z = np.sqrt(max(0.0, 1.0 - m[0, 0] - m[1, 1] + m[2, 2])) / 2
    x = np.copysign(x, m[2, 1] - m[1, 2])
    y = np.copysign(y, m[0, 2] - m[2, 0])
    z = np.copysign(z, m[1, 0] - m[0, 1])
    q = np.array([x, y, z, w])
    return q / np.linalg.norm(q)


def _transform(parent: str, child: str, pose: np.ndarray, stamp_ns: int):
    from sim2real_gan.io.ros_types import make_header, msg_class

    qx, qy, qz, qw = quaternion_xyzw(pose[:3, :3])
    tx, ty, tz = (float(v) for v in pose[:3, 3])
    return msg_class("geometry_msgs/msg/TransformStamped")(
        header=make_header(stamp_ns, parent), child_frame_id=child,
        transform=msg_class("geometry_msgs/msg/Transform")(
            translation=msg_class("geometry_msgs/msg/Vector3")(x=tx, y=ty, z=tz),
            rotation=msg_class("geometry_msgs/msg/Quaternion")(x=qx, y=qy, z=qz, w=qw)))


def _tf(transforms: list):
    from sim2real_gan.io.ros_types import msg_class

    return msg_class("tf2_msgs/msg/TFMessage")(transforms=transforms)


def model_pose(cam_pose: np.ndarray) -> np.ndarray:
    """T_world_model of the endoscope model whose tip link (:data:`TIP_OFFSET`, body axes:
    x forward, y left, z up, as Gazebo's links) carries the optical camera ``cam_pose``."""
    return cam_pose @ np.linalg.inv(BODY_TO_OPTICAL) @ np.linalg.inv(TIP_OFFSET)


def gazebo_messages(frame: Frame, stamp_ns: int) -> dict[str, object]:
    """{field: message} of one frame as Gazebo + ros_gz_bridge publish it."""
    from sim2real_gan.io.ros_types import camera_info_msg, image_msg, make_header

    h, w = frame.labels.shape
    depth = np.where(frame.depth > 0, frame.depth, np.float32(np.inf)).astype(np.float32)
    labels_map = np.repeat(frame.labels[:, :, None], 3, axis=2)
    hdr = {k: make_header(stamp_ns, f) for k, f in FRAME_IDS.items()}
    return {"image": image_msg(frame.image("sim"), "rgb8", hdr["image"]),
            "camera_info": camera_info_msg(frame.K, w, h, hdr["camera_info"]),
            "labels": image_msg(labels_map, "rgb8", hdr["labels"]),
            "depth": image_msg(depth, "32FC1", hdr["depth"])}


@dataclass
class GazeboBag:
    """What :func:`write_gazebo_bag` wrote: field -> topic, and the frame stamps (ns)."""

    path: Path
    topics: dict[str, str]
    stamps: list[int]


def write_gazebo_bag(path: str | os.PathLike, frames: int = 8, seed: int = 0,
                     width: int = 64, height: int = 48, namespace: str = "/endoscope",
                     layout: str = "gz", fps: float = 30.0, storage: str = "mcap",
                     overwrite: bool = False) -> GazeboBag:
    """Write a Gazebo-shaped recording of ``frames`` simulator frames (atomic rosbag2)."""
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import IMAGE, msg_class, ns_to_stamp

    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {sorted(LAYOUTS)}, got {layout!r}")
    ns = namespace.rstrip("/")
    topics = {k: f"{ns}/{s}" for k, s in LAYOUTS[layout].items()}
    types = {"image": IMAGE, "camera_info": "sensor_msgs/msg/CameraInfo", "labels": IMAGE,
             "depth": IMAGE}
    cfg = SimConfig(width=width, height=height, fps=fps, appearances=("sim",),
                    start_stamp_ns=SIM_START_NS)
    sim = EndoscopeSimulator(cfg, scene_seed_for(seed, "sim"))
    clock = msg_class("rosgraph_msgs/msg/Clock")
    period = round(1e9 / fps)
    stamps: list[int] = []
    with BagWriter(path, storage=storage, overwrite=overwrite) as bag:
        bag.add_topic("/clock", "rosgraph_msgs/msg/Clock")
        bag.add_topic("/tf", "tf2_msgs/msg/TFMessage")
        bag.add_topic("/tf_static", "tf2_msgs/msg/TFMessage")
        for k, t in topics.items():
            bag.add_topic(t, types[k])
        bag.write("/tf_static", WALL_START_NS - 10_000_000,
                  _tf([_transform("endoscope", "endoscope/tip", TIP_OFFSET, 0)]))
        for f in sim.frames(frames):
            wall = WALL_START_NS + (f.stamp_ns - SIM_START_NS) + 1_700_000  # arrives ~2 ms late
            for c in range(CLOCKS_PER_FRAME):
                sim_t = f.stamp_ns + c * period // CLOCKS_PER_FRAME
                bag.write("/clock", wall - 1_000_000 + c * period // CLOCKS_PER_FRAME,
                          clock(clock=ns_to_stamp(sim_t)))
            bag.write("/tf", wall - 500_000,
                      _tf([_transform("world", "endoscope", model_pose(f.cam_pose), f.stamp_ns)]))
            for i, (k, msg) in enumerate(gazebo_messages(f, f.stamp_ns).items()):
                bag.write(topics[k], wall + i * 50_000, msg)
            stamps.append(f.stamp_ns)
    return GazeboBag(Path(path), topics, stamps)


def content_shape_mask(height: int, width: int, shape: str = "circle",
                       fill: float = 0.94) -> np.ndarray:
    """bool (H,W) content area of an endoscope frame: a centred ``circle`` or ``octagon``
    whose height is ``fill`` of the frame height; the rest is the black surround."""
    if shape not in ("circle", "octagon"):
        raise ValueError(f"shape: expected 'circle' or 'octagon', got {shape!r}")
    r = fill * height / 2
    cx, cy = (width - 1) / 2, (height - 1) / 2
    if shape == "circle":
        yy, xx = np.mgrid[:height, :width]
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    c = r * (np.sqrt(2) - 1)  # regular octagon with inradius r
    pts = np.array([(-c, -r), (c, -r), (r, -c), (r, c), (c, r), (-c, r), (-r, c), (-r, -c)])
    out = np.zeros((height, width), np.uint8)
    cv2.fillPoly(out, [np.round(pts + (cx, cy)).astype(np.int32)], 1)
    return out.astype(bool)


@dataclass
class Footage:
    """What :func:`write_footage` wrote: ``content`` bool (H,W) the true content area,
    ``text`` bool (H,W) every pixel any burned-in text covered, ``text_boxes`` (x, y, w, h)
    of each text item (union over frames)."""

    path: Path
    frames: int
    fps: float
    content: np.ndarray
    text: np.ndarray
    text_boxes: list[tuple[int, int, int, int]]


def _burn_text(img: np.ndarray, items: list[tuple[str, tuple[int, int]]], scale: float,
               masks: list[np.ndarray]) -> None:
    thick = max(1, round(scale * 2))
    for (txt, org), m in zip(items, masks, strict=True):
        cv2.putText(img, txt, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                    cv2.LINE_AA)
        stamp = np.zeros(img.shape[:2], np.uint8)
        cv2.putText(stamp, txt, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
        m |= stamp > 0


def write_footage(path: str | os.PathLike, frames: int = 40, seed: int = 0, width: int = 320,
                  height: int = 240, fps: float = 15.0, shape: str = "circle",
                  text: bool = True) -> Footage:
    """Write an endoscope-tower-like MP4 (atomic): the simulator's ``real`` rendering in a
    black ``circle``/``octagon`` surround, with a running date/time in the top-left corner
    (outside the content) and "OR 3" burned into the lower part of the content area."""
    from sim2real_gan.io.media import VideoWriter

    content = content_shape_mask(height, width, shape)
    ys, xs = np.nonzero(content)
    y0, x0 = int(ys.min()), int(xs.min())
    side = max(int(ys.max()) - y0 + 1, int(xs.max()) - x0 + 1, 8)
    cfg = SimConfig(width=side, height=side, fps=fps, appearances=("real",),
                    real=RealLookConfig(field_stop="none"))  # the surround is drawn here
    sim = EndoscopeSimulator(cfg, scene_seed_for(seed, "real"))
    scale = height / 480
    start = dt.datetime(2026, 3, 14, 10, 21, 5)
    corner = (max(2, width // 80), max(10, round(30 * scale)))
    inner = (width // 2 - round(40 * scale), y0 + round(0.85 * side))
    masks = [np.zeros((height, width), bool), np.zeros((height, width), bool)]
    with VideoWriter(path, fps=fps) as out:
        for f in sim.frames(frames):
            img = np.zeros((height, width, 3), np.uint8)
            crop = img[y0:y0 + side, x0:x0 + side]
            crop[...] = f.image("real")[: crop.shape[0], : crop.shape[1]]
            img[~content] = 0
            if text:
                clock = start + dt.timedelta(seconds=f.index / fps)
                _burn_text(img, [(clock.strftime("%d/%m/%Y %H:%M:%S"), corner),
                                 ("OR 3", inner)], scale, masks)
            out.write(img)
    boxes = [cv2.boundingRect(m.astype(np.uint8)) for m in masks if m.any()]
    return Footage(Path(path), frames, fps, content, masks[0] | masks[1], boxes)


def main(argv: list[str] | None = None) -> int:
    """``python -m sim2real_gan.sim.gazebo_like {bag,footage} OUT [options]``."""
    p = argparse.ArgumentParser(prog="python -m sim2real_gan.sim.gazebo_like",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("bag", "footage"))
    p.add_argument("out", type=Path)
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=None, help="default 128 (bag), 320 (footage)")
    p.add_argument("--height", type=int, default=None, help="default 96 (bag), 240 (footage)")
    p.add_argument("--ns", default="/endoscope", help="bag: topic namespace")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="gz",
                   help="bag: Gazebo's topic names (gz) or the bridge-renamed ones (bridge)")
    p.add_argument("--shape", choices=("circle", "octagon"), default="circle",
                   help="footage: content area")
    args = p.parse_args(argv)
    if args.frames < 2:
        p.error(f"--frames must be >= 2, got {args.frames}")
    if args.what == "bag":
        bag = write_gazebo_bag(args.out, args.frames, args.seed, args.width or 128,
                               args.height or 96, args.ns, args.layout)
        print(f"wrote {len(bag.stamps)} frames to {bag.path}: {bag.topics}, /clock, /tf")
    else:
        ft = write_footage(args.out, args.frames, args.seed, args.width or 320,
                           args.height or 240, shape=args.shape)
        print(f"wrote {ft.frames} frames to {ft.path} ({args.shape} content "
              f"{100 * ft.content.mean():.1f}% of the frame, text boxes {ft.text_boxes})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
