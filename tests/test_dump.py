"""`sim2real-gan dump`: a Gazebo-shaped recording and a simulator bag as PNG/NPZ files with a
contact sheet; raw label PNGs hold the class ids, arrays keep their values."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.dump.bag_dump import topic_folder
from sim2real_gan.dump.kinds import kind_of
from sim2real_gan.dump.sheet import sheet_size
from sim2real_gan.dump.visual import id_color, label_colors

W, H, N, SEED = 40, 32, 6, 2


@pytest.fixture(scope="module")
def bags(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from sim2real_gan.sim.config import SimConfig, scene_seed_for
    from sim2real_gan.sim.gazebo_like import write_gazebo_bag
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    root = tmp_path_factory.mktemp("dump")
    gz = write_gazebo_bag(root / "gz_bag", frames=N, seed=SEED, width=W, height=H)
    truth = list(EndoscopeSimulator(SimConfig(width=W, height=H), scene_seed_for(SEED, "sim"))
                 .frames(N))
    assert main(["simulate", str(root / "sim_bag"), "--frames", str(N), "--width", str(W),
                 "--height", str(H), "--no-progress"]) == 0
    return {"gz": gz, "truth": truth, "sim": root / "sim_bag"}


def _files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(suffix))


def test_dump_gazebo_recording(bags, tmp_path: Path) -> None:
    gz, truth = bags["gz"], bags["truth"]
    out = tmp_path / "frames"
    assert main(["dump", str(gz.path), str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    kinds = {t: e["kind"] for t, e in index["topics"].items()}
    assert kinds == {gz.topics["image"]: "colour", gz.topics["labels"]: "labels",
                     gz.topics["depth"]: "depth"}
    img_dir, lab_dir, dep_dir = (out / gz.topics[k].strip("/") for k in ("image", "labels",
                                                                          "depth"))
    images = _files(img_dir, ".png")
    assert [p.name for p in images] == [f"{i:06d}_{s}.png" for i, s in enumerate(gz.stamps)]
    first = cv2.imread(str(images[0]))[:, :, ::-1]
    assert np.array_equal(first, truth[0].image("sim"))
    raw = [p for p in _files(lab_dir, ".png") if not p.name.endswith("_color.png")]
    for p, f in zip(raw, truth, strict=True):  # labels_map channel 0 = the class ids
        ids = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        assert ids.dtype == np.uint8 and ids.ndim == 2 and np.array_equal(ids, f.labels)
    colour = cv2.imread(str(_files(lab_dir, "_color.png")[0]))[:, :, ::-1]
    assert np.array_equal(colour, label_colors(truth[0].labels))
    depth = np.load(_files(dep_dir, ".npz")[0])["depth"]
    assert np.isposinf(depth[truth[0].depth == 0]).all()  # Gazebo's +inf kept as recorded
    assert np.array_equal(depth[truth[0].depth > 0], truth[0].depth[truth[0].depth > 0])
    assert len(_files(dep_dir, ".png")) == N
    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet.shape[:2] == sheet_size(3, N, (120, round(120 * W / H)))
    assert (out / ".sim2real_gan-output.json").is_file()


def test_dump_simulator_bag_with_every_and_max(bags, tmp_path: Path) -> None:
    from sim2real_gan.io.bag import BagReader
    from sim2real_gan.io.image_codec import image_to_numpy

    out = tmp_path / "frames"
    assert main(["dump", str(bags["sim"]), str(out), "--every", "2", "--max", "2",
                 "--sheet-frames", "3"]) == 0
    index = json.loads((out / "index.json").read_text())["topics"]
    assert {e["kind"] for e in index.values()} == {"colour", "labels", "depth", "flow", "mask",
                                                   "uv"}
    assert all(e["dumped"] == 2 and e["messages"] == N for e in index.values())
    with BagReader(bags["sim"]) as r:
        msgs = [m for m in r.messages(["/sim/camera/flow", "/sim/camera/segmentation"])]
    flows = [image_to_numpy(m.decode()) for m in msgs if m.topic.endswith("flow")]
    labs = [image_to_numpy(m.decode()) for m in msgs if m.topic.endswith("segmentation")]
    npz = _files(out / "sim/camera/flow", ".npz")
    assert [p.name[:6] for p in npz] == ["000000", "000002"]  # message numbers 0 and 2
    assert np.array_equal(np.load(npz[1])["flow"], flows[2])
    ids = cv2.imread(str(_files(out / "sim/camera/segmentation", ".png")[0]), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(ids, labs[0])
    valid = cv2.imread(str(_files(out / "sim/camera/flow_valid", ".png")[0]), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(valid)) <= {0, 255}
    sheet = cv2.imread(str(out / "contact_sheet.png"))
    assert sheet.shape[:2] == sheet_size(6, 2, (120, round(120 * W / H)))


def test_dump_force_rule(bags, tmp_path: Path) -> None:
    out = tmp_path / "frames"
    argv = ["dump", str(bags["gz"].path), str(out), "--max", "1"]
    assert main(argv) == 0
    assert main(argv) == 2                   # exists: --force needed
    assert main([*argv, "--force"]) == 0      # our own previous dump: replaced
    (out / "notes.txt").write_text("mine")
    assert main([*argv, "--force"]) == 2      # the user added a file: never replaced
    assert (out / "notes.txt").read_text() == "mine"


def test_kinds_colours_and_folders() -> None:
    assert kind_of("/a/seg/labels_map", "sensor_msgs/msg/Image", "rgb8") == "labels"
    assert kind_of("/a/left/disparity", "sensor_msgs/msg/Image", "32FC1") == "disparity"
    assert kind_of("/a/left/disparity_valid", "sensor_msgs/msg/Image", "mono8") == "mask"
    assert kind_of("/a/image_raw", "sensor_msgs/msg/Image", "bgr8") == "colour"
    assert kind_of("/a/depth/image_rect_raw", "sensor_msgs/msg/Image", "16UC1") == "depth"
    assert kind_of("/a/flow", "sensor_msgs/msg/Image", "32FC2") == "flow"
    ids = np.array([[0, 7, 300]], np.uint16)
    rgb = label_colors(ids)
    assert tuple(rgb[0, 2]) == id_color(300) and id_color(300) == id_color(300)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 1].tolist() != rgb[0, 2].tolist()
    taken: set[str] = set()
    assert topic_folder("/../../etc/passwd", taken) == "__/__/etc/passwd"  # stays inside OUT
    assert topic_folder("/cam/image", taken) == "cam/image"
    assert topic_folder("/cam/image", taken) == "cam/image_2"
