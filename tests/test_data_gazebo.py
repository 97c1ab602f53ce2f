"""A user's own simulator recording: a Gazebo-shaped bag (docs/gazebo.md) as a sim source.

The bag is written by sim2real_gan.sim.gazebo_like from the built-in simulator, so the
estimated flow can be scored against the simulator's ground truth of the same frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from training.data import (
    RealFrames,
    SimPairs,
    SourceConfig,
    TranslationDataset,
    build_source,
    load_source,
)

W, H, N, SEED = 96, 72, 10, 3


@pytest.fixture(scope="module")
def gz(tmp_path_factory) -> tuple[Path, list]:
    from sim2real_gan.sim.config import SimConfig, scene_seed_for
    from sim2real_gan.sim.gazebo_like import write_gazebo_bag
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    path = tmp_path_factory.mktemp("gz") / "gz_bag"
    write_gazebo_bag(path, frames=N, seed=SEED, width=W, height=H)
    truth = list(EndoscopeSimulator(SimConfig(width=W, height=H), scene_seed_for(SEED, "sim"))
                 .frames(N))
    return path, truth


def test_bag_has_what_a_ros_gz_bridge_recording_has(gz) -> None:
    from sim2real_gan.io.bag import BagReader
    from sim2real_gan.io.image_codec import image_to_numpy

    path, truth = gz
    with BagReader(path) as bag:
        assert bag.topics == {
            "/clock": "rosgraph_msgs/msg/Clock", "/tf": "tf2_msgs/msg/TFMessage",
            "/tf_static": "tf2_msgs/msg/TFMessage", "/endoscope/image": "sensor_msgs/msg/Image",
            "/endoscope/camera_info": "sensor_msgs/msg/CameraInfo",
            "/endoscope/seg/labels_map": "sensor_msgs/msg/Image",
            "/endoscope/depth": "sensor_msgs/msg/Image"}
        first = {}
        for m in bag.messages():
            first.setdefault(m.topic, m.decode())
    seg, depth = first["/endoscope/seg/labels_map"], first["/endoscope/depth"]
    assert (first["/endoscope/image"].encoding, seg.encoding, depth.encoding) == (
        "rgb8", "rgb8", "32FC1")
    lab = image_to_numpy(seg)
    assert (lab[..., 0] == lab[..., 1]).all() and (lab[..., 0] == truth[0].labels).all()
    d = image_to_numpy(depth)
    assert np.isposinf(d[truth[0].depth == 0]).all() and not np.isnan(d).any()
    assert seg.header.frame_id != first["/endoscope/image"].header.frame_id  # one per sensor
    assert first["/endoscope/image"].header.stamp.sec == 0  # simulation time, not wall time


@pytest.mark.parametrize("method", ["fused", "dis"])
def test_gazebo_bag_trains_as_sim_source_with_estimated_flow(gz, tmp_path: Path,
                                                             method: str) -> None:
    path, truth = gz
    cfg = SourceConfig(kind="bag", paths=[str(path)], cache=str(tmp_path), flow_method=method)
    data = load_source(cfg, "sim", ("image", "flow", "valid", "labels", "depth", "uv"))
    assert data.flow == "estimated" and "uv" not in data.fields
    assert set(data.fields) == {"image", "flow", "valid", "labels", "depth"}
    frames = [f.load() for f in data.seqs[0]]
    assert len(frames) == N
    for fr, gt in zip(frames, truth, strict=True):
        assert np.array_equal(fr["labels"], gt.labels)  # labels_map channel 0 = class ids
        assert np.isfinite(fr["depth"]).all() and np.array_equal(fr["depth"], gt.depth)
    est = np.stack([f["flow"] for f in frames[:-1]])
    ok = np.stack([f["valid"] for f in frames[:-1]])
    gt_flow = np.stack([f.flow for f in truth[:-1]])
    gt_ok = np.stack([f.flow_valid for f in truth[:-1]])
    epe = np.linalg.norm(est - gt_flow, axis=-1)
    zero = np.linalg.norm(gt_flow, axis=-1)[gt_ok].mean()
    assert 0.6 < ok.mean() <= 1 and (ok & gt_ok).sum() / ok.sum() > 0.85
    assert not ok[np.stack([f.depth for f in truth[:-1]]) == 0].any()  # no surface: invalid
    assert not frames[-1]["valid"].any()  # no next frame
    assert epe[gt_ok].mean() < (0.2 if method == "fused" else 0.75 * zero)  # beats no motion
    assert "camera pose from /tf frame endoscope/tip" in data.summary[0]
    assert ("fused with depth/camera-motion flow" in data.summary[-1]) == (method == "fused")


def test_estimated_flow_is_cached_by_content(gz, tmp_path: Path) -> None:
    path, _ = gz
    cfg = SourceConfig(kind="bag", paths=[str(path)], cache=str(tmp_path), flow_method="auto")
    assert cfg.flow_method == "fused"  # the old name of the fused estimate
    assert SourceConfig(kind="bag", paths=[str(path)]).flow_method == "dis"  # the default
    a = load_source(cfg, "sim", ("flow", "valid"))
    assert "9 pairs computed" in a.summary[-1] and "fused with depth/camera-motion" in a.summary[-1]
    b = load_source(cfg, "sim", ("flow", "valid"))
    assert "0 pairs computed" in b.summary[-1]
    assert np.array_equal(a.seqs[0][3].load()["flow"], b.seqs[0][3].load()["flow"])
    assert len(list((tmp_path / "flow").iterdir())) == 1
    small = load_source(SourceConfig(kind="bag", paths=[str(path)], cache=str(tmp_path),
                                     size=[36, 48]), "sim", ("flow", "valid"))
    assert "9 pairs computed" in small.summary[-1]  # another size: another entry
    assert small.seqs[0][0].load()["flow"].shape == (36, 48, 2)


@pytest.mark.parametrize("layout,ns", [("bridge", "/endoscope/camera"),
                                       ("gz", "/world/default/model/endoscope/link/tip")])
def test_any_namespace_and_topic_layout_is_found(tmp_path: Path, layout: str, ns: str) -> None:
    from sim2real_gan.sim.gazebo_like import write_gazebo_bag

    bag = write_gazebo_bag(tmp_path / "b", frames=3, width=32, height=24, namespace=ns,
                           layout=layout)
    data = load_source(SourceConfig(kind="bag", paths=[str(bag.path)], cache=str(tmp_path)),
                       "sim", ("labels", "depth"))
    assert data.fields == ("image", "depth", "labels")
    assert f"image={bag.topics['image']} labels={bag.topics['labels']}" in data.summary[0]
    off = load_source(SourceConfig(kind="bag", paths=[str(bag.path)], topics={"labels": ""}),
                      "sim", ("labels",))
    assert off.fields == ("image",)


def test_dataset_returns_only_the_fields_the_recording_has(gz, tmp_path: Path) -> None:
    path, _ = gz
    sim = SimPairs(load_source(SourceConfig(kind="bag", paths=[str(path)], cache=str(tmp_path)),
                               "sim", ("flow", "valid", "labels")))
    assert sim.flow == "estimated" and "uv" not in sim.fields
    seqs = build_source(SourceConfig(kind="bag", paths=[str(path)], cache=str(tmp_path)), "sim",
                        ("flow", "valid"))
    assert SimPairs(seqs).flow == "estimated" and "flow" in SimPairs(seqs).fields
    real = RealFrames(load_source(SourceConfig(kind="bag", paths=[str(path)]), "real"))
    ds = TranslationDataset(sim, real, crop=(48, 48), seed=1)
    s = ds[3]
    assert set(s) == {"n", "sim_t", "sim_t1", "flow", "valid", "labels_t", "real", "real_mask",
                      "sim_rim", "real_rim"}  # rims: every crop has a frame (vignetting stage)
    assert s["real_mask"].shape == (1, 48, 48) and s["real_mask"].dtype == torch.float32
    with pytest.raises(ValueError, match=r"aux channel\(s\) \['uv'\].*does not have"):
        TranslationDataset(sim, real, crop=(48, 48), aux=("uv",))


def test_train_cli_on_gazebo_bag_and_footage_video(gz, tmp_path: Path, monkeypatch) -> None:
    """The issue's command: a Gazebo-shaped bag + an MP4, no flow or UV anywhere."""
    from sim2real_gan.cli.main import main
    from sim2real_gan.sim.gazebo_like import write_footage

    monkeypatch.setenv("SIM2REAL_GAN_CACHE", str(tmp_path / "cache"))
    path, _ = gz
    write_footage(tmp_path / "footage.mp4", frames=12, width=128, height=96)
    run = tmp_path / "run"
    args = ["train", "--config", "tiny", "--steps", "2", "--out", str(run),
            "--set", f"data.sim={{kind: bag, paths: [{path}]}}",
            "--set", f"data.real={{kind: video, paths: [{tmp_path / 'footage.mp4'}]}}",
            "--set", "progress=false", "--set", "data.crop=[48,48]"]
    assert main(args) == 0
    assert (run / "checkpoints" / "latest").is_file()
    assert list((tmp_path / "cache" / "flow").iterdir())


def test_stand_in_command_line(tmp_path: Path, capsys) -> None:
    from sim2real_gan.sim.gazebo_like import main

    assert main(["bag", str(tmp_path / "b"), "--frames", "3", "--width", "32", "--height", "24",
                 "--layout", "bridge", "--ns", "/sim/camera"]) == 0
    assert "/sim/camera/image_raw" in capsys.readouterr().out
    assert main(["footage", str(tmp_path / "f.mp4"), "--frames", "3", "--width", "64",
                 "--height", "48", "--shape", "octagon"]) == 0
    assert (tmp_path / "f.mp4").stat().st_size > 0
    with pytest.raises(SystemExit):
        main(["bag", str(tmp_path / "c"), "--frames", "1"])
