"""Estimated flow: forward-backward check, DIS on known motion, depth/camera-motion flow,
camera poses from /tf, camera rescaling, and frame cleaning (Gazebo conventions)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sim2real_gan.flow import Camera, FlowEstimator, fb_consistent
from sim2real_gan.flow.geometry import depth_pose_flow
from sim2real_gan.flow.tf_poses import BODY_TO_OPTICAL, TfBuffer, camera_frame, optical_pose
from sim2real_gan.io.recording import clean_frame


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / np.ptp(noise)
    return np.repeat((noise * 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_fb_check_accepts_consistent_and_rejects_inconsistent_flow() -> None:
    fwd = np.zeros((20, 30, 2), np.float32)
    fwd[..., 0] = 2.0
    assert fb_consistent(fwd, -fwd)[:, :27].all()
    assert not fb_consistent(fwd, -fwd)[:, 28:].any()  # lands outside the image
    assert not fb_consistent(fwd, np.zeros_like(fwd)).any()  # back flow does not return


def test_dis_recovers_a_known_shift() -> None:
    big = _texture(120, 140)
    a, b = big[10:106, 10:130], big[9:105, 7:127]  # content moves by (+3, +1) px
    flow, valid, geo = FlowEstimator(method="dis")({"image": a}, {"image": b})
    assert flow.shape == (96, 120, 2) and flow.dtype == np.float32 and geo == 0.0
    inner = valid.copy()
    inner[:8], inner[-8:], inner[:, :8], inner[:, -8:] = False, False, False, False
    assert valid.mean() > 0.8
    assert np.abs(flow[inner] - [3.0, 1.0]).mean() < 0.15


def _plane_camera(h: int, w: int, tx: float) -> Camera:
    k = np.array([[80.0, 0, (w - 1) / 2], [0, 80.0, (h - 1) / 2], [0, 0, 1]])
    pose = np.eye(4)
    pose[0, 3] = tx
    return Camera(k, pose, (h, w))


def test_depth_pose_flow_of_a_plane_and_occlusion() -> None:
    h, w = 40, 60
    depth = np.full((h, w), 0.1, np.float32)
    c0, c1 = _plane_camera(h, w, 0.0), _plane_camera(h, w, 0.001)  # camera 1 mm right
    flow, vis = depth_pose_flow(depth, depth, c0, c1)
    # a static point appears to move left by fx * tx / z = 80 * 0.001 / 0.1 = 0.8 px
    assert np.allclose(flow[vis][:, 0], -0.8, atol=1e-4) and np.allclose(flow[vis][:, 1], 0)
    assert vis[:, 2:].all() and not vis[:, 0].any()  # column 0 leaves the view
    occluded = depth.copy()
    occluded[:, 30:] = 0.05  # something nearer covers the right half at t+1
    _, vis2 = depth_pose_flow(depth, occluded, c0, c1)
    assert not vis2[:, 32:].any() and vis2[:, 5:25].all()
    depth[0, 0] = 0  # no surface: never visible
    assert not depth_pose_flow(depth, depth, c0, c0)[1][0, 0]


def test_camera_at_size_projects_consistently() -> None:
    cam = _plane_camera(48, 64, 0.0)
    small = cam.at_size(24, 32)
    p = np.array([0.01, -0.02, 0.1])
    uv = (cam.K @ p)[:2] / p[2]
    uv_s = (small.K @ p)[:2] / p[2]
    assert np.allclose((uv_s + 0.5) * 2 - 0.5, uv)


def _tf(parent: str, child: str, t: tuple, q: tuple, stamp: int):
    from sim2real_gan.io.ros_types import make_header, msg_class

    m = msg_class
    tr = m("geometry_msgs/msg/TransformStamped")(
        header=make_header(stamp, parent), child_frame_id=child,
        transform=m("geometry_msgs/msg/Transform")(
            translation=m("geometry_msgs/msg/Vector3")(x=t[0], y=t[1], z=t[2]),
            rotation=m("geometry_msgs/msg/Quaternion")(x=q[0], y=q[1], z=q[2], w=q[3])))
    return m("tf2_msgs/msg/TFMessage")(transforms=[tr])


def test_tf_buffer_chains_interpolates_and_finds_the_camera() -> None:
    from sim2real_gan.sim.gazebo_like import quaternion_xyzw

    buf = TfBuffer()
    qz90 = tuple(quaternion_xyzw(cv2.Rodrigues(np.array([0, 0, np.pi / 2]))[0]))
    buf.add(_tf("world", "scope", (0, 0, 0), (0, 0, 0, 1), 1_000))
    buf.add(_tf("world", "scope", (1, 0, 0), (0, 0, 0, 1), 3_000))
    buf.add(_tf("scope", "scope/tip", (0, 0.5, 0), qz90, 0), static=True)
    buf.add(_tf("world", "table", (5, 5, 0), (0, 0, 0, 1), 1_000))
    buf.finish()
    pose = buf.pose("scope/tip", 2_000)
    assert np.allclose(pose[:3, 3], [0.5, 0.5, 0.0])  # halfway, plus the static offset
    assert np.allclose(pose[:3, :3] @ [1, 0, 0], [0, 1, 0])  # tip turned 90 deg about z
    assert buf.pose("scope/tip", 10**9) is None  # far from every sample
    assert camera_frame(buf, "scope::tip::rgb", "", "bag b") == "scope/tip"
    assert camera_frame(buf, "table", "", "bag b") == "table"  # the header frame_id wins
    with pytest.raises(ValueError, match="tf_frame 'nowhere' is not in /tf"):
        camera_frame(buf, "x", "nowhere", "bag b")
    assert np.allclose(optical_pose(np.eye(4), "scope/tip", "auto"), BODY_TO_OPTICAL)
    assert np.allclose(optical_pose(np.eye(4), "cam_optical_frame", "auto"), np.eye(4))
    # optical z (viewing direction) is the body's x (forward)
    assert np.allclose(BODY_TO_OPTICAL[:3, :3] @ [0, 0, 1], [1, 0, 0])


def test_clean_frame_applies_gazebo_conventions_and_checks_sizes() -> None:
    img = np.zeros((4, 5, 3), np.uint8)
    depth = np.array([[0.1, np.inf, -np.inf, np.nan, -1.0]] * 4, np.float32)
    labels = np.zeros((4, 5, 3), np.uint8)
    labels[..., 0], labels[..., 2] = 3, 9
    fr = clean_frame({"image": img, "depth": depth, "labels": labels})
    assert np.isfinite(fr["depth"]).all() and fr["depth"].dtype == np.float32
    assert np.allclose(fr["depth"][0], [0.1, 0, 0, 0, 0])
    assert (fr["labels"] == 3).all() and fr["labels"].shape == (4, 5)
    mm = clean_frame({"image": img, "depth": np.full((4, 5), 250, np.uint16)})
    assert np.allclose(mm["depth"], 0.25)  # REP 118: 16UC1 depth is millimetres
    assert (clean_frame({"image": img, "labels": labels}, label_channel=2)["labels"] == 9).all()
    with pytest.raises(ValueError, match=r"bag x: depth is 3x4 but the image is 5x4"):
        clean_frame({"image": img, "depth": np.zeros((4, 3), np.float32)}, where="bag x")


def test_flow_check_scores_ground_truth_perfectly_and_beats_no_motion(capsys) -> None:
    from training.data.flow_check import check, main

    rows = {r["name"]: r for r in check(sequences=1, frames=4, size=48)}
    gt = rows["ground truth"]
    assert gt["epe_gt_valid"] == 0 and gt["precision"] == 1 and gt["recall"] == 1
    assert rows["dis+depth/pose"]["epe_gt_valid"] < rows["zero"]["epe_gt_valid"]
    assert main(["--sequences", "1", "--frames", "3", "--size", "32"]) == 0
    assert "| dis+depth/pose |" in capsys.readouterr().out


def test_flow_modes_on_the_builtin_simulator(tmp_path) -> None:
    """flow: estimate replaces the simulator's ground truth (for estimated-vs-GT runs)."""
    from training.data import SourceConfig, load_source

    base = {"kind": "synthetic", "seeds": [1], "frames": 5, "width": 64, "height": 48,
            "cache": str(tmp_path)}
    gt = load_source(SourceConfig(**base), "sim", ("flow", "valid"))
    est = load_source(SourceConfig(**base, flow="estimate", flow_method="fused"), "sim",
                      ("flow", "valid"))
    off = load_source(SourceConfig(**base, flow="off"), "sim", ("flow", "valid"))
    assert (gt.flow, est.flow, off.flow) == ("gt", "estimated", "none")
    assert "flow" not in off.fields and "fused with depth/camera-motion" in est.summary[-1]
    g = [f.load() for f in gt.seqs[0][:-1]]
    e = [f.load() for f in est.seqs[0][:-1]]
    epe = np.concatenate([np.linalg.norm(a["flow"] - b["flow"], axis=-1)[b["valid"]]
                          for a, b in zip(e, g, strict=True)])
    assert epe.mean() < 0.3
    frames = _folder(tmp_path)
    with pytest.raises(ValueError, match="flow: gt, but the source has no flow"):
        load_source(SourceConfig(kind="folder", paths=[str(frames)], flow="gt"), "sim",
                    ("flow", "valid"))


def _folder(tmp_path):
    from sim2real_gan.io.media import write_image

    for i in range(3):
        write_image(tmp_path / "frames" / f"{i}.png", _texture(16, 16, i))
    return tmp_path / "frames"
