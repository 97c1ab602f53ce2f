"""Image folders, still images, videos and GIFs through OpenCV; every array here is RGB.

Writers are atomic: they write to a hidden temporary file in the target directory and rename
it into place when complete.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sim2real_gan.artifact.pixels import check_frames

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def _tmp_sibling(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(name, 0o644)  # mkstemp makes 0600; outputs are ordinary files
    return Path(name)


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read one image file -> uint8 (H,W,3) RGB."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path} (missing, unreadable or not an image)")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def read_image_folder(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (file name, uint8 (H,W,3) RGB) for every image in ``path``, sorted by name."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"image folder {folder} has no images ({', '.join(IMAGE_SUFFIXES)})")
    for f in files:
        yield f.name, read_image(f)


def write_image(path: str | os.PathLike, rgb: np.ndarray) -> Path:
    """Write uint8 (H,W,3) RGB (or (H,W) grey) to ``path`` atomically; format from suffix."""
    out = Path(path)
    arr = np.asarray(rgb)
    if arr.ndim == 3:
        arr = check_frames(arr, "write_image")[:, :, ::-1]
    elif arr.ndim != 2:
        raise ValueError(f"write_image needs (H, W, 3) or (H, W), got {arr.shape}")
    ok, buf = cv2.imencode(out.suffix or ".png", np.ascontiguousarray(arr))
    if not ok:
        raise ValueError(f"OpenCV cannot encode an image as {out.suffix!r}")
    tmp = _tmp_sibling(out)
    try:
        tmp.write_bytes(buf.tobytes())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


@dataclass
class VideoInfo:
    """What the container says: ``frames`` (OpenCV's count, may be approximate or 0 for
    streams without an index), ``fps`` (0 when unknown), ``width``, ``height``."""

    frames: int
    fps: float
    width: int
    height: int


def _open_video(path: str | os.PathLike) -> cv2.VideoCapture:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"video {p} does not exist")
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise ValueError(f"video {p}: OpenCV cannot open it as a video (expected a video "
                         f"file such as {', '.join(VIDEO_SUFFIXES)})")
    return cap


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Frame count, rate and size of a video file, from its container (no decoding)."""
    cap = _open_video(path)
    try:
        return VideoInfo(max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))),
                         max(0.0, float(cap.get(cv2.CAP_PROP_FPS) or 0.0)),
                         int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        cap.release()


def read_video(path: str | os.PathLike, stride: int = 1,
               max_frames: int = 0) -> Iterator[np.ndarray]:
    """Yield frames 0, stride, 2*stride, ... of a video file as uint8 (H,W,3) RGB.

    Skipped frames are only grabbed, not converted. ``max_frames`` > 0 stops after that
    many yielded frames. A file OpenCV cannot open raises ValueError naming it.
    """
    if stride < 1 or max_frames < 0:
        raise ValueError(f"read_video: need stride >= 1 and max_frames >= 0, got {stride}, "
                         f"{max_frames}")
    cap = _open_video(path)
    try:
        count = 0
        for i in itertools.count():
            if i % stride:
                if not cap.grab():
                    return
                continue
            ok, bgr = cap.read()
            if not ok or bgr is None:
                return
            yield np.ascontiguousarray(bgr[:, :, ::-1])
            count += 1
            if max_frames and count >= max_frames:
                return
    finally:
        cap.release()


class VideoWriter:
    """MP4 (mp4v) / AVI (MJPG) writer for previews; atomic; use as a context manager.

    Frames are uint8 (H,W,3) RGB, all of the size of the first frame.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 15.0):
        self.path = Path(path)
        if self.path.suffix.lower() not in (".mp4", ".avi"):
            raise ValueError(f"VideoWriter writes .mp4 or .avi, got {self.path.suffix!r}")
        self.fps = float(fps)
        self._tmp: Path | None = None
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def __enter__(self) -> VideoWriter:
        self._tmp = _tmp_sibling(self.path)
        return self

    def write(self, rgb: np.ndarray) -> None:
        arr = check_frames(np.asarray(rgb), "VideoWriter.write")
        size = (arr.shape[1], arr.shape[0])
        if self._writer is None:
            codec = "mp4v" if self.path.suffix.lower() == ".mp4" else "MJPG"
            self._writer = cv2.VideoWriter(
                str(self._tmp), cv2.VideoWriter_fourcc(*codec), self.fps, size
            )
            if not self._writer.isOpened():
                raise ValueError(f"OpenCV cannot write {codec} video to {self.path}")
            self._size = size
        elif size != self._size:
            raise ValueError(f"video frames must all be {self._size}, got {size}")
        self._writer.write(np.ascontiguousarray(arr[:, :, ::-1]))
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._writer is not None:
            self._writer.release()
        assert self._tmp is not None
        if exc_type is None and self.frames > 0:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)
            if exc_type is None:
                raise ValueError(f"no frames were written to {self.path}")


def write_gif(path: str | os.PathLike, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Write uint8 (H,W,3) RGB frames as an animated GIF (atomic). Needs OpenCV >= 4.11."""
    if not hasattr(cv2, "imencodeanimation"):
        raise ValueError("this OpenCV build cannot write GIFs (needs >= 4.11); use an .mp4")
    if not frames:
        raise ValueError("write_gif needs at least one frame")
    anim = cv2.Animation()
    anim.frames = [np.ascontiguousarray(check_frames(np.asarray(f), "write_gif")[:, :, ::-1])
                   for f in frames]
    anim.durations = [max(int(round(1000.0 / fps)), 10)] * len(frames)
    ok, buf = cv2.imencodeanimation(".gif", anim)
    if not ok:
        raise ValueError("OpenCV failed to encode the GIF")
    out = Path(path)
    tmp = _tmp_sibling(out)
    try:
        tmp.write_bytes(np.asarray(buf).tobytes())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
