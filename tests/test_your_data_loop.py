"""The loop of docs/your-data.md, run as written, on stand-in data.

Every ```bash block of the page is run in order in one empty folder (blocks marked
``<!-- not run by the tests: REASON -->`` need Gazebo, ROS 2, a GPU or minutes to hours,
and are skipped), so the page and this test cannot drift. Then the outputs are checked as a
user would: the frame dumps, the run, the exported model, the own-data evaluation report,
the translated bag (labels byte-identical, same stamps, the 3-channel labels_map and the
+inf depth untouched).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "your-data.md"
SKIP = re.compile(r"<!-- not run by the tests: (.+?) -->")


@dataclass(frozen=True)
class Block:
    """One ```bash block of the page: its text, and why it is not run (None: it is)."""

    text: str
    skip: str | None


def doc_blocks(text: str) -> list[Block]:
    """The ```bash blocks of ``text`` in order, each with the skip reason written above it."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() != "```bash":
            i += 1
            continue
        end = lines.index("```", i + 1)
        above = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
        m = SKIP.fullmatch(above.strip())
        blocks.append(Block("\n".join(lines[i + 1:end]), m.group(1) if m else None))
        i = end + 1
    return blocks


def test_page_parses_and_runs_the_whole_loop() -> None:
    blocks = doc_blocks(DOC.read_text(encoding="utf-8"))
    run = "\n".join(b.text for b in blocks if b.skip is None)
    skipped = "\n".join(b.text for b in blocks if b.skip is not None)
    for step in ("gazebo_like bag", "gazebo_like footage", "sim2real-gan dump gz_bag",
                 "sim2real-gan train --config tiny", "sim2real-gan train --resume",
                 "sim2real-gan export", "sim2real-gan evaluate --sim-bag",
                 "sim2real-gan translate-bag", "sim2real-gan dump gz_bag_real"):
        assert step in run, f"docs/your-data.md: no runnable block does {step!r}"
    for step in ("ros2 bag record", "ros2 launch sim2real_gan translate.launch.py model:=",
                 "tensorboard --logdir", "torchrun"):
        assert step in skipped, f"docs/your-data.md: {step!r} is missing"
    assert all(b.skip.strip() for b in blocks if b.skip is not None)
    assert not re.search(r"\b(ros2|gz|torchrun|tensorboard)\b", run), \
        "a block that needs ROS/Gazebo/GPU/a server is not marked 'not run by the tests'"


@pytest.fixture(scope="module")
def loop(tmp_path_factory) -> Path:
    """Run the page's runnable blocks in an empty folder; returns that folder."""
    work = tmp_path_factory.mktemp("your_data")
    script = "\n".join(b.text for b in doc_blocks(DOC.read_text(encoding="utf-8"))
                       if b.skip is None)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "SIM2REAL_GAN_CACHE": str(work / "cache"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    (work / "loop.log").write_text(log, encoding="utf-8")
    assert proc.returncode == 0, f"docs/your-data.md loop failed ({proc.returncode}):\n{log[-4000:]}"
    return work


def _by_stamp(path: Path, prefix: str) -> dict[str, dict[int, object]]:
    """topic leaf name -> header stamp (ns) -> BagMessage, for topics under ``prefix``."""
    from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns

    out: dict[str, dict[int, object]] = {}
    with BagReader(path) as bag:
        for m in bag.messages():
            if m.topic.startswith(prefix):
                out.setdefault(m.topic[len(prefix):], {})[cdr_header_stamp_ns(m.raw)] = m
    return out


@pytest.mark.slow
def test_loop_trains_resumes_and_exports(loop: Path) -> None:
    import json

    log = (loop / "loop.log").read_text(encoding="utf-8")
    assert "flow: estimated (DIS + forward-backward check; " in log  # images only: the default
    assert "text" in log and "masked" in log  # the footage's surround/text mask was found
    ckpts = loop / "runs" / "mine" / "checkpoints"
    assert (ckpts / "latest").read_text().strip() == "step_0000080"  # resumed to 80
    assert (ckpts / "step_0000080" / "trainer_state.json").is_file()
    manifest = json.loads((loop / "models" / "mine" / "model.json").read_text())
    assert [i["name"] for i in manifest["inputs"]] == ["image", "style"]  # no uv: no aux input
    assert manifest["style_prior"]["source"] == "footage.mp4"  # seeds look like the footage
    assert manifest["style_prior"]["frames"] >= 16
    assert (loop / "models" / "mine" / "model.onnx").stat().st_size > 0


@pytest.mark.slow
def test_translated_bag_keeps_labels_exact(loop: Path) -> None:
    from sim2real_gan.io.bag import BagReader
    from sim2real_gan.io.image_codec import image_to_numpy

    src = _by_stamp(loop / "gz_bag", "/sim/camera/")
    out = _by_stamp(loop / "gz_bag_real", "/realistic/camera/")
    assert set(out) == {"image_raw", "segmentation", "depth", "camera_info"}
    stamps = set(src["image_raw"])
    assert len(stamps) == 30
    for name in ("image_raw", "segmentation", "depth", "camera_info"):
        assert set(out[name]) == stamps, f"{name}: stamps changed or frames dropped"
    for name in ("segmentation", "depth", "camera_info"):
        assert all(out[name][s].raw == src[name][s].raw for s in stamps), f"{name} altered"
    seg = image_to_numpy(out["segmentation"][min(stamps)].decode())
    assert seg.shape[-1] == 3 and (seg[..., 0] == seg[..., 2]).all()  # labels_map, 3 channels
    assert any(np.isposinf(image_to_numpy(m.decode())).any() for m in out["depth"].values())
    moved = 0
    for s in stamps:
        a, b = src["image_raw"][s].decode(), out["image_raw"][s].decode()
        assert (b.header.frame_id, b.encoding, b.height, b.width) == (
            a.header.frame_id, a.encoding, a.height, a.width)
        moved += not np.array_equal(image_to_numpy(a), image_to_numpy(b))
    assert moved == len(stamps)  # every image was translated
    with BagReader(loop / "gz_bag_real") as bag:
        counts = bag.message_counts
    with BagReader(loop / "gz_bag") as bag:
        for topic in ("/clock", "/tf", "/tf_static"):
            assert counts[topic] == bag.message_counts[topic]  # copied


@pytest.mark.slow
def test_evaluation_scores_the_model_on_the_recording_against_the_footage(loop: Path) -> None:
    import json

    doc = json.loads((loop / "report_quick" / "metrics.json").read_text())
    assert doc["kind"] == "own-data" and list(doc["methods"]) == ["no translation", "mine"]
    assert doc["data"]["sim"]["flow"] == "estimated flow"  # Gazebo records no flow
    assert doc["data"]["sim"]["labels"] and doc["data"]["footage"]["mask_method"] == "detected"
    for row in doc["methods"].values():
        assert np.isfinite([row["warping_error"], row["kid"], row["fid"],
                            row["label_preservation"]["miou"]]).all()
    assert (loop / "report_quick" / "report.md").is_file()


@pytest.mark.slow
def test_dumps_show_recording_and_translation(loop: Path) -> None:
    import json

    import cv2
    from sim2real_gan.io.image_codec import image_to_numpy

    src = _by_stamp(loop / "gz_bag", "/sim/camera/")
    for out, ns in (("gz_frames", "sim/camera"), ("real_frames", "realistic/camera")):
        index = json.loads((loop / out / "index.json").read_text())
        kinds = {t.rsplit("/", 1)[-1]: v["kind"] for t, v in index["topics"].items()}
        assert kinds == {"image_raw": "colour", "segmentation": "labels", "depth": "depth"}
        assert all(v["dumped"] == 6 for v in index["topics"].values())  # 30 frames, --every 5
        assert cv2.imread(str(loop / out / "contact_sheet.png")) is not None
        seg = sorted((loop / out / ns / "segmentation").glob("*[0-9].png"))[0]
        stamp = int(seg.stem.split("_")[1])
        ids = cv2.imread(str(seg), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(ids, image_to_numpy(src["segmentation"][stamp].decode())[..., 0])
        depth = np.load(sorted((loop / out / ns / "depth").glob("*.npz"))[0])["depth"]
        assert np.isposinf(depth).any()  # Gazebo's "nothing in range" kept
