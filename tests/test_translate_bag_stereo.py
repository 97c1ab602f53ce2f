"""``translate-bag --stereo`` on a ``simulate --stereo`` bag with a real exported model: both
eyes translated with one style, every label byte-identical, identical stamps per pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.cli.main import main
from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns
from sim2real_gan.io.image_codec import image_to_numpy
from test_translate_bag import shared_tiny_artifact

NS, OUT = "/sim/camera", "/realistic/camera"


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tiny_artifact(tmp_path_factory)


@pytest.fixture(scope="module")
def stereo_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stereo") / "bag"
    assert main(["simulate", str(path), "--stereo", "--frames", "4", "--width", "48",
                 "--height", "48", "--seed", "5", "--no-progress"]) == 0
    return path


def records(path: Path) -> dict[str, list[tuple[int, bytes]]]:
    out: dict[str, list[tuple[int, bytes]]] = {}
    with BagReader(path) as r:
        for m in r.messages():
            out.setdefault(m.topic, []).append((m.stamp_ns, bytes(m.raw)))
    return out


def images(path: Path, topic: str) -> list[np.ndarray]:
    with BagReader(path) as r:
        return [image_to_numpy(m.decode()).copy() for m in r.messages([topic])]


def test_both_eyes_translated_with_one_style(tmp_path: Path, artifact: Path,
                                            stereo_bag: Path) -> None:
    from sim2real_gan.runtime import Translator

    out = tmp_path / "out"  # without depth reprojection: each eye its own translation
    assert main(["translate-bag", str(stereo_bag), str(out), "--stereo", "--model",
                 str(artifact), "--style", "2", "--no-progress", "--stereo-depth-topic",
                 ""]) == 0
    src, dst = records(stereo_bag), records(out)
    assert set(dst) == {t.replace(NS, OUT) for t in src}
    for topic in src:
        if not topic.endswith("/image_raw"):  # labels, camera_info, disparity: as they were
            assert dst[topic.replace(NS, OUT)] == src[topic], topic
    stamps = {eye: [cdr_header_stamp_ns(raw) for _, raw in dst[f"{OUT}/{eye}/image_raw"]]
              for eye in ("left", "right")}
    assert stamps["left"] == stamps["right"] and len(stamps["left"]) == 4
    assert stamps["left"] == [cdr_header_stamp_ns(raw) for _, raw in
                              src[f"{NS}/left/segmentation"]]
    t = Translator.from_artifact(artifact, "onnxruntime", style=2)
    ins = {e: images(stereo_bag, f"{NS}/{e}/image_raw") for e in ("left", "right")}
    outs = {e: images(out, f"{OUT}/{e}/image_raw") for e in ("left", "right")}
    for e in ("left", "right"):
        for a, b in zip(ins[e], outs[e], strict=True):
            assert not np.array_equal(a, b)
            assert np.abs(t.translate(a).astype(int) - b).max() <= 1  # style 2, both eyes

    def colour(frames: list[np.ndarray]) -> np.ndarray:
        return np.mean([f.reshape(-1, 3).mean(0) for f in frames], axis=0)

    pair_gap = np.abs(colour(outs["left"]) - colour(outs["right"])).max()
    t.set_style(7)  # what a per-view translator does: another style for the other eye
    per_view = [t.translate(a) for a in ins["right"]]
    per_view_gap = np.abs(colour(outs["left"]) - colour(per_view)).max()
    assert pair_gap < 4.0 and per_view_gap > 3 * pair_gap, (pair_gap, per_view_gap)


def test_right_eye_from_the_left_translation_with_depth(tmp_path: Path, artifact: Path,
                                                       stereo_bag: Path, caplog) -> None:
    """By default (both eyes carry depth and camera_info) the right eye's pixels that the
    left eye also sees are the left translation reprojected; the rest, and the left eye, are
    the batch's own translation; labels stay byte-identical."""
    import logging

    from sim2real_gan.pipeline.stereo_reproject import PairGeometry, reproject_right
    from sim2real_gan.runtime import Translator

    caplog.set_level(logging.INFO)
    out = tmp_path / "out"
    assert main(["translate-bag", str(stereo_bag), str(out), "--stereo", "--model",
                 str(artifact), "--style", "2", "--no-progress"]) == 0
    lines = " ".join(r.getMessage() for r in caplog.records)
    assert "right eye from the left translation in 4 pairs" in lines
    src, dst = records(stereo_bag), records(out)
    for topic in src:
        if not topic.endswith("/image_raw"):
            assert dst[topic.replace(NS, OUT)] == src[topic], topic
    with BagReader(stereo_bag) as r:
        infos = {e: [m.decode() for m in r.messages([f"{NS}/{e}/camera_info"])]
                 for e in ("left", "right")}
    geometry = PairGeometry.from_projections(infos["left"][0].p, infos["right"][0].p)
    assert geometry is not None and geometry.fx_b > 0
    t = Translator.from_artifact(artifact, "onnxruntime", style=2)
    ins = {e: images(stereo_bag, f"{NS}/{e}/image_raw") for e in ("left", "right")}
    depth = {e: images(stereo_bag, f"{NS}/{e}/depth") for e in ("left", "right")}
    outs = {e: images(out, f"{OUT}/{e}/image_raw") for e in ("left", "right")}
    covered = []
    for i in range(4):
        left, right = t.translate(ins["left"][i]), t.translate(ins["right"][i])
        assert np.abs(left.astype(int) - outs["left"][i]).max() <= 1
        want, mask = reproject_right(left, right, depth["left"][i], depth["right"][i], geometry)
        assert np.abs(want.astype(int) - outs["right"][i]).max() <= 2
        own = np.abs(right.astype(int) - outs["right"][i]).max(-1)
        assert own[~mask].max() <= 1  # not seen by the left eye: the right's own pixels
        covered.append(mask.mean())
    assert 0.5 < np.mean(covered) < 1.0


def test_stereo_without_a_pair_in_the_bag_is_one_error(tmp_path: Path, artifact: Path,
                                                      stereo_bag: Path, caplog) -> None:
    code = main(["translate-bag", str(stereo_bag), str(tmp_path / "out"), "--stereo",
                 "--right-ns", "rechts", "--model", str(artifact), "--no-progress"])
    assert code == 2 and not (tmp_path / "out").exists()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "right eye: image topic /sim/camera/rechts/image_raw is not in the bag" in errors[0]


def test_demo_stereo(tmp_path: Path, artifact: Path, capsys) -> None:
    import json

    out = tmp_path / "demo"
    assert main(["demo", "--stereo", "--frames", "3", "--size", "48x48", "--model",
                 str(artifact), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stereo"] and (summary["frames"], summary["frames_in"]) == (3, 3)
    assert "pairs/s" in capsys.readouterr().out
    dst = records(out / "realistic_bag")
    assert len(dst[f"{OUT}/left/image_raw"]) == len(dst[f"{OUT}/right/image_raw"]) == 3
    assert (out / "preview.mp4").stat().st_size > 0


def test_bench_times_pairs_beside_frames(tmp_path: Path, capsys) -> None:
    import json

    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--stereo", "--backends", "onnxruntime-cpu",
                 "--no-baseline", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["rows"][0]
    for t in (row["engine"], row["message"], *row["stereo"].values()):
        assert t["n"] >= 2 and t["p50_ms"] > 0, t
    assert set(row["stereo"]) == {"pair_engine", "two_singles", "pair_message"}
    assert "pairs/s (msg)" in capsys.readouterr().out


def test_stereo_model_with_aux_reads_each_eyes_own_uv(tmp_path: Path, stereo_bag: Path) -> None:
    from sim2real_gan.runtime import Translator
    from test_translate_bag import make_tiny_artifact

    model = make_tiny_artifact(tmp_path / "aux", aux=("uv",))
    out = tmp_path / "out"
    assert main(["translate-bag", str(stereo_bag), str(out), "--stereo", "--model", str(model),
                 "--style", "1", "--no-progress", "--stereo-depth-topic", ""]) == 0
    t = Translator.from_artifact(model, "onnxruntime", style=1)
    for eye in ("left", "right"):
        rgb = images(stereo_bag, f"{NS}/{eye}/image_raw")[0]
        uv = images(stereo_bag, f"{NS}/{eye}/uv")[0].astype(np.float32)
        got = images(out, f"{OUT}/{eye}/image_raw")[0]
        assert np.abs(t.translate(rgb, uv=uv).astype(int) - got).max() <= 1, eye


def test_bad_stereo_depth_topic_is_an_argument_error(tmp_path: Path, artifact: Path,
                                                     stereo_bag: Path, capsys, caplog) -> None:
    base = ["translate-bag", str(stereo_bag), str(tmp_path / "out"), "--model", str(artifact),
            "--no-progress"]
    with pytest.raises(SystemExit) as exc:  # a bad value: argparse's one line, exit 2
        main([*base, "--stereo", "--stereo-depth-topic", "/sim/camera/left/depth"])
    assert exc.value.code == 2 and "is absolute" in capsys.readouterr().err
    # the flag without --stereo: one line, exit 2
    assert main([*base, "--stereo-depth-topic", "depth_m"]) == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "--stereo-depth-topic need --stereo" in errors[0]
    assert not (tmp_path / "out").exists()
