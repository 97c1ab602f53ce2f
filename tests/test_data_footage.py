"""Real footage as a hospital tower records it: black surround, burned-in text, videos,
frame folders and bag image topics; sampling, summaries, and bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from training.data import SourceConfig, build_source, load_source


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    from sim2real_gan.sim.gazebo_like import write_footage

    return write_footage(tmp_path_factory.mktemp("or3") / "or3.mp4", frames=30, width=192,
                         height=144)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_video_source_masks_surround_and_text(footage) -> None:
    data = load_source(SourceConfig(kind="video", paths=[str(footage.path)]), "real")
    assert data.fields == ("image", "mask")
    fr = data.seqs[0][5].load()
    assert fr["image"].shape == (144, 192, 3) and fr["mask"].dtype == bool
    from sim2real_gan.io.footage import detect_content_mask

    imgs = np.stack([f.load()["image"] for f in data.seqs[0]])
    cm = detect_content_mask(imgs)
    assert _iou(cm.content, footage.content) > 0.95
    inside_text = footage.text & footage.content  # "OR 3" and the clock's lower edge
    assert inside_text.sum() > 20 and not fr["mask"][inside_text].any()
    assert not fr["mask"][~footage.content].any()  # the surround never counts
    assert fr["mask"].sum() > 0.9 * (footage.content & ~cm.text).sum()
    line = data.summary[0]
    assert line.startswith("data.real video or3.mp4: 30 frames, 192x144, 2.0 s at 15 fps")
    assert "(detected)" in line and "text" in line and "masked" in line


@pytest.mark.parametrize("shape", ["octagon", "circle"])
def test_content_area_is_found_for_scope_shapes(tmp_path: Path, shape: str) -> None:
    from sim2real_gan.io.footage import detect_content_mask
    from sim2real_gan.io.media import read_video
    from sim2real_gan.sim.gazebo_like import write_footage

    ft = write_footage(tmp_path / "f.mp4", frames=12, width=160, height=120, shape=shape,
                       seed=5)
    cm = detect_content_mask(np.stack(list(read_video(ft.path))))
    assert cm.method == "detected" and _iou(cm.content, ft.content) > 0.95
    assert not cm.mask[ft.text & ft.content].any()


def test_full_frame_footage_keeps_everything() -> None:
    from sim2real_gan.io.footage import detect_content_mask
    from sim2real_gan.sim.config import RealLookConfig, SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    full = RealLookConfig(field_stop="none")  # the default real look has a circular surround
    sim = EndoscopeSimulator(SimConfig(width=96, height=72, appearances=("real",), real=full), 2)
    cm = detect_content_mask(np.stack([f.image("real") for f in sim.frames(12)]))
    assert cm.content.mean() > 0.95 and cm.text.mean() < 0.01  # no surround, no text
    scope = EndoscopeSimulator(SimConfig(width=96, height=72, appearances=("real",)), 2)
    cm = detect_content_mask(np.stack([f.image("real") for f in scope.frames(12)]))
    assert _iou(cm.content, scope.content_mask) > 0.95  # the detector finds the field stop
    with pytest.raises(ValueError, match="no content area found"):
        detect_content_mask(np.zeros((4, 30, 40, 3), np.uint8))
    with pytest.raises(ValueError, match=r"detect_content_mask: expected uint8 \(N,H,W,3\) "
                                         r"RGB, got float32"):
        detect_content_mask(np.zeros((4, 30, 40, 3), np.float32))
    with pytest.raises(ValueError, match="needs at least one frame"):
        detect_content_mask(np.zeros((0, 30, 40, 3), np.uint8))


def test_sampling_folders_mask_files_and_bags(footage, tmp_path: Path) -> None:
    from sim2real_gan.io.media import read_video, write_image

    vid = load_source(SourceConfig(kind="video", paths=[str(footage.path)], stride=4,
                                   max_frames=5, size=[72, 96]), "real")
    assert len(vid.seqs[0]) == 5 and vid.seqs[0][0].load()["mask"].shape == (72, 96)
    assert "5 frames (of 30, stride 4), 192x144 loaded at 96x72" in vid.summary[0]
    for i, rgb in enumerate(read_video(footage.path)):
        write_image(tmp_path / "frames" / f"{i:04d}.png", rgb)
    folder = load_source(SourceConfig(kind="folder", paths=[str(tmp_path / "frames")]), "real")
    assert _iou(folder.seqs[0][0].load()["mask"] | footage.text, footage.content) > 0.9
    painted = np.zeros((144, 192), np.uint8)
    painted[20:120, 40:150] = 255
    cv2.imwrite(str(tmp_path / "mask.png"), painted)
    m = load_source(SourceConfig(kind="video", paths=[str(footage.path)],
                                 mask=str(tmp_path / "mask.png"), size=[72, 96]), "real")
    assert "(file)" in m.summary[0] and m.seqs[0][0].load()["mask"][10:60, 20:75].all()
    off = load_source(SourceConfig(kind="video", paths=[str(footage.path)], mask="off"), "real")
    assert off.fields == ("image",)
    cv2.imwrite(str(tmp_path / "small.png"), painted[:50])
    with pytest.raises(ValueError, match=r"mask file .*small.png is 192x50 but the frames are "
                                         r"192x144"):
        load_source(SourceConfig(kind="video", paths=[str(footage.path)],
                                 mask=str(tmp_path / "small.png")), "real")


def _bag_with(path: Path, image: np.ndarray | None, labels: np.ndarray | None,
              label_stamp: int = 0) -> None:
    from sim2real_gan.io.bag import BagWriter
    from sim2real_gan.io.ros_types import image_msg, make_header

    with BagWriter(path) as bag:
        bag.add_topic("/cam/depth", "sensor_msgs/msg/Image")
        bag.write("/cam/depth", 0, image_msg(np.ones((8, 8), np.float32), "32FC1",
                                             make_header(0, "cam")))
        if image is not None:
            bag.add_topic("/cam/image_raw", "sensor_msgs/msg/Image")
            bag.write("/cam/image_raw", 0, image_msg(image, "rgb8", make_header(0, "cam")))
        if labels is not None:
            bag.add_topic("/cam/segmentation", "sensor_msgs/msg/Image")
            bag.write("/cam/segmentation", 0, image_msg(labels, "mono8",
                                                        make_header(label_stamp, "cam")))


def test_bad_input_gets_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("not a video\n")
    with pytest.raises(ValueError, match=r"video .*notes.mp4: OpenCV cannot open it as a video "
                                         r"\(expected a video file"):
        load_source(SourceConfig(kind="video", paths=[str(tmp_path / "notes.mp4")]), "real")
    w = cv2.VideoWriter(str(tmp_path / "empty.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10,
                        (32, 24))
    w.release()
    with pytest.raises(ValueError, match=r"empty.avi: OpenCV cannot open it|empty.avi has no "
                                         r"frames"):
        load_source(SourceConfig(kind="video", paths=[str(tmp_path / "empty.avi")]), "real")
    _bag_with(tmp_path / "no_images", None, None)
    with pytest.raises(ValueError, match=r"bag .*no_images: no camera image topic \(expected a "
                                         r"sensor_msgs/msg/Image topic named"):
        load_source(SourceConfig(kind="bag", paths=[str(tmp_path / "no_images")]), "real")
    rgb = np.zeros((8, 8, 3), np.uint8)
    _bag_with(tmp_path / "sizes", rgb, np.zeros((4, 8), np.uint8))
    with pytest.raises(ValueError, match=r"labels topic /cam/segmentation is 8x4 but image "
                                         r"topic /cam/image_raw is 8x8"):
        build_source(SourceConfig(kind="bag", paths=[str(tmp_path / "sizes")]), "sim",
                     ("labels",))
    _bag_with(tmp_path / "stamps", rgb, np.zeros((8, 8), np.uint8), label_stamp=5)
    with pytest.raises(ValueError, match=r"labels topic /cam/segmentation never has the "
                                         r"header.stamp of an image"):
        build_source(SourceConfig(kind="bag", paths=[str(tmp_path / "stamps")]), "sim",
                     ("labels",))
    with pytest.raises(ValueError, match=r"has no 'labels' field"):
        build_source(SourceConfig(kind="bag", paths=[str(tmp_path / "sizes")],
                                  topics={"labels": ""}), "sim", ("labels",))
