"""Frame sources (simulator, rosbag2, folders, video) and the deterministic dataset."""

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
    sample_numbers,
)

FIELDS = ("image", "flow", "valid", "uv", "depth", "labels")


def _frames(n: int, h: int = 16, w: int = 20, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"image": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
             "flow": rng.normal(0, 1, (h, w, 2)).astype(np.float32),
             "valid": rng.random((h, w)) > 0.2,
             "uv": rng.random((h, w, 2), dtype=np.float32),
             "depth": rng.random((h, w), dtype=np.float32) * 0.2,
             "labels": rng.integers(0, 8, (h, w), dtype=np.uint8)} for _ in range(n)]


def _write_bag(path: Path, frames: list[dict], stamps: list[int]) -> None:
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import image_msg, make_header

    enc = {"image": "rgb8", "flow": "32FC2", "valid": "mono8", "uv": "32FC2",
           "depth": "32FC1", "labels": "mono8"}
    topic = {"image": "image_raw", "flow": "flow", "valid": "flow_valid", "uv": "uv",
             "depth": "depth", "labels": "segmentation"}
    with BagWriter(path) as bag:
        for k in FIELDS:
            bag.add_topic(f"/sim/camera/{topic[k]}", "sensor_msgs/msg/Image")
        for fr, st in zip(frames, stamps, strict=True):
            for k in FIELDS:
                a = fr[k].astype(np.uint8) * 255 if k == "valid" else fr[k]
                bag.write(f"/sim/camera/{topic[k]}", st,
                          image_msg(a, enc[k], make_header(st, "endoscope_optical_frame")))


def test_bag_source_decodes_and_splits_sequences(tmp_path: Path) -> None:
    frames = _frames(5)
    stamps = [0, 33_000_000, 66_000_000, 1_000_000_000, 1_033_000_000]  # gap -> 2 sequences
    _write_bag(tmp_path / "sim_bag", frames, stamps)
    seqs = build_source(SourceConfig(kind="bag", paths=[str(tmp_path / "sim_bag")]), "sim",
                        FIELDS)
    assert [len(s) for s in seqs] == [3, 2]
    got = seqs[1][0].load()
    for k in FIELDS:
        assert np.array_equal(got[k], frames[3][k]), k
    assert len(SimPairs(seqs)) == 3  # pairs never cross a sequence boundary
    # the only camera image topic also serves as real footage; a namespace without one fails
    real = build_source(SourceConfig(kind="bag", paths=[str(tmp_path / "sim_bag")]), "real")
    assert np.array_equal(real[0][0].load()["image"], frames[0]["image"])
    with pytest.raises(ValueError, match="no image topic under namespace /real/camera"):
        build_source(SourceConfig(kind="bag", paths=[str(tmp_path / "sim_bag")],
                                  namespace="/real/camera"), "real")


def test_synthetic_source_and_cache(tmp_path: Path) -> None:
    cfg = SourceConfig(kind="synthetic", seeds=[1, 2], frames=3, width=32, height=24,
                       cache=str(tmp_path / "cache"))
    seqs = build_source(cfg, "sim", ("flow", "valid", "uv"))
    assert [len(s) for s in seqs] == [3, 3]
    fr = seqs[0][1].load()
    assert fr["image"].shape == (24, 32, 3) and fr["flow"].shape == (24, 32, 2)
    assert fr["valid"].dtype == bool
    again = build_source(cfg, "sim", ("flow", "valid", "uv"))  # from the .npz cache
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2
    assert np.array_equal(again[0][1].load()["image"], fr["image"])
    real = build_source(SourceConfig(kind="synthetic", seeds=[1], frames=2, width=32,
                                     height=24, size=[12, 16]), "real")
    assert real[0][0].load()["image"].shape == (12, 16, 3)
    with pytest.raises(ValueError, match="kind"):
        SourceConfig(kind="webcam")


def test_folder_and_video_sources(tmp_path: Path) -> None:
    from sim2real_gan.io.media import VideoWriter, write_image

    frames = _frames(3, 16, 16)
    for i, fr in enumerate(frames):
        (tmp_path / "sim" / "image").mkdir(parents=True, exist_ok=True)
        (tmp_path / "sim" / "flow").mkdir(exist_ok=True)
        (tmp_path / "sim" / "valid").mkdir(exist_ok=True)
        write_image(tmp_path / "sim" / "image" / f"{i:04d}.png", fr["image"])
        np.save(tmp_path / "sim" / "flow" / f"{i:04d}.npy", fr["flow"])
        write_image(tmp_path / "sim" / "valid" / f"{i:04d}.png", fr["valid"].astype(np.uint8) * 255)
    seqs = build_source(SourceConfig(kind="folder", paths=[str(tmp_path / "sim")]), "sim",
                        ("flow", "valid"))
    got = seqs[0][2].load()
    assert np.array_equal(got["image"], frames[2]["image"])
    assert np.array_equal(got["flow"], frames[2]["flow"])
    assert np.array_equal(got["valid"], frames[2]["valid"])
    with pytest.raises(ValueError, match="has no 'uv' field"):
        build_source(SourceConfig(kind="folder", paths=[str(tmp_path / "sim")]), "sim", ("uv",))
    (tmp_path / "sim" / "uv").mkdir()
    with pytest.raises(ValueError, match="no uv/ file"):
        build_source(SourceConfig(kind="folder", paths=[str(tmp_path / "sim")]), "sim", ("uv",))
    with VideoWriter(tmp_path / "real.mp4", fps=10) as vw:
        for _ in range(6):
            vw.write(np.full((32, 48, 3), 120, np.uint8))
    vid = build_source(SourceConfig(kind="video", paths=[str(tmp_path / "real.mp4")],
                                    stride=2, size=[16, 24]), "real")
    assert len(vid[0]) == 3 and vid[0][0].load()["image"].shape == (16, 24, 3)


def test_dataset_is_deterministic_sharded_and_consistent() -> None:
    from training.data.datasets import _perm_index
    from training.data.frames import ArrayFrame

    sim = SimPairs([[ArrayFrame(f) for f in _frames(4, 24, 24)]])
    real = RealFrames([[ArrayFrame({"image": f["image"]}) for f in _frames(3, 24, 24, 9)]])
    ds = TranslationDataset(sim, real, crop=(16, 16), seed=5, aux=("uv", "depth"))
    a, b = ds[7], ds[7]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert a["sim_t"].shape == (3, 16, 16) and a["aux_t"].shape == (3, 16, 16)
    assert a["flow"].shape == (2, 16, 16) and a["valid"].shape == (1, 16, 16)
    assert a["labels_t"].dtype == torch.int64 and a["real"].shape == (3, 16, 16)
    assert a["sim_t"].min() >= -1 and a["sim_t"].max() <= 1
    # Every epoch visits each pair once; ranks get disjoint sample numbers.
    for e in range(2):
        seen = [_perm_index(n, len(sim), 5, 1, {}) for n in range(e * len(sim), (e + 1) * len(sim))]
        assert sorted(seen) == list(range(len(sim)))
    r0 = {n for s in range(3) for n in sample_numbers(s, 2, 0, 2)}
    r1 = {n for s in range(3) for n in sample_numbers(s, 2, 1, 2)}
    assert not r0 & r1 and r0 | r1 == set(range(12))
