"""Image folders, still images, videos and GIFs (OpenCV), RGB order and atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.io.media import (
    VideoWriter,
    read_image,
    read_image_folder,
    read_video,
    write_gif,
    write_image,
)


def _frame(i: int, h: int = 32, w: int = 48) -> np.ndarray:
    f = np.zeros((h, w, 3), np.uint8)
    f[..., 0] = 200  # red: checks RGB (not BGR) order survives the round trip
    f[:, : (i * 7) % w, 1] = 120
    return f


def test_png_round_trip_is_exact_and_rgb(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temp file left


def test_image_folder_sorted_and_errors(tmp_path: Path) -> None:
    for i in (2, 0, 1):
        write_image(tmp_path / f"f{i}.png", _frame(i))
    (tmp_path / "notes.txt").write_text("ignored")
    names = [n for n, _ in read_image_folder(tmp_path)]
    assert names == ["f0.png", "f1.png", "f2.png"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list(read_image_folder(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no images"):
        list(read_image_folder(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"write_image: expected uint8 \(H,W,3\) RGB, got float32"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"VideoWriter.write: empty image \(0, 4, 3\)"), \
            VideoWriter(tmp_path / "e.mp4") as vw:
        vw.write(np.zeros((0, 4, 3), np.uint8))  # the one frame check (artifact.pixels)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.is_file()
                and p.suffix != ".png" and p.name != "notes.txt"]  # no temp or partial file
    assert not (tmp_path / "x.png").exists()


def test_video_round_trip(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "v.mp4", fps=10) as vw:
        for i in range(6):
            vw.write(_frame(i))
    frames = list(read_video(tmp_path / "v.mp4"))
    assert len(frames) == 6 and frames[0].shape == (32, 48, 3)
    assert abs(float(frames[3][..., 0].mean()) - 200) < 12  # lossy codec, but red stays red
    assert float(frames[3][..., 2].mean()) < 20


def test_video_writer_errors_leave_no_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must all be"), VideoWriter(tmp_path / "v.mp4") as vw:
        vw.write(_frame(0))
        vw.write(_frame(0, h=16))
    with pytest.raises(ValueError, match="no frames"), VideoWriter(tmp_path / "w.mp4"):
        pass
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match=r"\.mp4 or \.avi"):
        VideoWriter(tmp_path / "v.gif")
    with pytest.raises(FileNotFoundError):
        list(read_video(tmp_path / "missing.mp4"))


def test_gif(tmp_path: Path) -> None:
    import cv2

    if not hasattr(cv2, "imreadanimation"):
        pytest.skip("OpenCV < 4.11 has no GIF support")
    write_gif(tmp_path / "a.gif", [_frame(i) for i in range(4)], fps=5)
    ok, anim = cv2.imreadanimation(str(tmp_path / "a.gif"))
    assert ok and len(anim.frames) == 4
    assert anim.frames[0][..., 2].mean() > 150  # OpenCV gives BGR: red is channel 2
