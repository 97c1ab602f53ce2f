"""``sim2real-gan demo`` smoke test on a few small frames with a tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns
from sim2real_gan.io.media import read_video
from test_translate_bag import shared_tiny_artifact

SIM_SUFFIXES = ("image_raw", "camera_info", "segmentation", "depth", "uv", "flow", "flow_valid")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_artifact(tmp_path_factory)


def test_demo_smoke(tmp_path: Path, artifact: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "demo"
    args = ["demo", "--model", str(artifact), "--frames", "5", "--size", "64x48", "--out",
            str(out), "--no-progress", "--strip-frames", "3"]
    assert main(args) == 0
    line = capsys.readouterr().out
    assert "engine" in line and "message path" in line and "5/5 frames" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 5 and summary["engine_fps"] > 0
    assert summary["message_path_fps"] > 0 and summary["size"] == [64, 48]

    with BagReader(out / "realistic_bag") as r:
        assert set(r.topics) == {f"/realistic/camera/{s}" for s in SIM_SUFFIXES}
        stamps: dict[str, list[int]] = {}
        for m in r.messages():
            stamps.setdefault(m.topic, []).append(cdr_header_stamp_ns(m.raw))
    assert all(len(v) == 5 for v in stamps.values())
    assert len({tuple(v) for v in stamps.values()}) == 1  # every topic: the same 5 stamps

    frames = list(read_video(out / "preview.mp4"))
    assert len(frames) == 5 and frames[0].shape[:2] == (48, 3 * 64 + 2 * 2)
    strip = cv2.imread(str(out / "preview_strip.png"))
    assert strip.shape[:2] == (3 * 48 + 2 * 2, 3 * 64 + 2 * 2)

    assert main(args) == 2  # outputs exist: refuses without --force
    assert main(args + ["--force", "--preview", "gif"]) == 0
    assert (out / "preview.gif").is_file() and not (out / "preview.mp4").exists()


def test_demo_missing_model_is_a_clear_error(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    code = main(["demo", "--model", str(tmp_path / "none"), "--frames", "2", "--out",
                 str(tmp_path / "o"), "--no-progress"])
    assert code == 2 and "does not exist" in caplog.text
    assert not (tmp_path / "o").exists()
