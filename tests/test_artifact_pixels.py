"""The one pixel convention (to_net / from_net), the one frame check, and the normalisation
the runtime reads from model.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.artifact import NET_RANGE, Normalisation, load_manifest
from sim2real_gan.artifact.pixels import InputError, check_frames, from_net, to_net
from sim2real_gan.runtime import Translator

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "default"
ALL_VALUES = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)


@pytest.mark.parametrize("norm", [NET_RANGE, Normalisation.from_range(0.0, 1.0),
                                  Normalisation(0.5, -3.0)])
def test_round_trip_is_exact_for_every_value(norm: Normalisation) -> None:
    single = ALL_VALUES.copy()
    single[..., 1] = 255 - single[..., 1]  # channels differ, so a channel swap would show
    batch = np.stack([single, single[::-1]])
    assert to_net(single, norm).shape == (3, 16, 16)
    assert to_net(batch, norm).shape == (2, 3, 16, 16)
    np.testing.assert_array_equal(from_net(to_net(single, norm), norm), single)
    np.testing.assert_array_equal(from_net(to_net(batch, norm), norm), batch)


def test_net_range_is_minus_one_to_one_exactly() -> None:
    x = to_net(ALL_VALUES)
    assert x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
    want = ALL_VALUES.transpose(2, 0, 1).astype(np.float64) / 127.5 - 1.0
    assert np.abs(x - want).max() < 1e-7  # the value nearest to the exact one
    np.testing.assert_array_equal(to_net(ALL_VALUES[:, ::-1]), x[:, :, ::-1])  # strided input


def test_from_net_rounds_and_saturates() -> None:
    y = np.array([-3.0, -1.0, -0.996, 0.0, 0.9999, 1.0, 7.0], np.float32)
    values = np.broadcast_to(y[None, None, :], (3, 1, y.size)).copy()
    np.testing.assert_array_equal(from_net(values)[0, :, 0], [0, 0, 1, 128, 255, 255, 255])


def test_buffers_are_reused() -> None:
    buf = np.empty((2, 3, 16, 16), np.float32)
    batch = np.stack([ALL_VALUES, ALL_VALUES])
    assert to_net(batch, out=buf) is buf
    frames = np.empty((2, 16, 16, 3), np.uint8)
    assert from_net(buf, out=frames) is frames
    np.testing.assert_array_equal(frames, batch)
    with pytest.raises(ValueError, match=r"out must be float32 \(2, 3, 16, 16\)"):
        to_net(batch, out=np.empty((1, 3, 16, 16), np.float32))


@pytest.mark.parametrize("bad,needle", [
    ([[1, 2, 3]], "expected a numpy uint8 (H,W,3) or (N,H,W,3) RGB array, got list"),
    (np.zeros((4, 4, 3), np.float32), "expected uint8 (H,W,3) or (N,H,W,3) RGB, got float32"),
    (np.zeros((4, 4), np.uint8), "got uint8 (4, 4)"),
    (np.zeros((4, 4, 4), np.uint8), "got uint8 (4, 4, 4)"),
    (np.zeros((0, 4, 3), np.uint8), "empty image (0, 4, 3)"),
])
def test_frame_check(bad: object, needle: str) -> None:
    with pytest.raises(InputError) as info:
        to_net(bad)
    assert needle in str(info.value)
    with pytest.raises(InputError, match=r"rgb: expected uint8 \(H,W,3\) RGB"):
        check_frames(np.zeros((1, 4, 4, 3), np.uint8))  # one frame wanted, a batch given
    assert check_frames(np.zeros((0, 4, 4, 3), np.uint8), batched=True).shape[0] == 0
    with pytest.raises(InputError, match=r"out: expected uint8 \(4, 5, 3\), got \(4, 4, 3\)"):
        check_frames(np.zeros((4, 4, 3), np.uint8), "out", shape=(4, 5, 3))


def test_preview_panels_use_the_one_frame_check() -> None:
    from sim2real_gan.pipeline.preview import side_by_side

    ok = np.zeros((4, 6, 3), np.uint8)
    assert side_by_side([("a", ok), ("b", ok)]).shape == (4, 14, 3)
    with pytest.raises(InputError, match=r"panel 'b': expected uint8 \(4, 6, 3\), got \(4, 5, 3\)"):
        side_by_side([("a", ok), ("b", np.zeros((4, 5, 3), np.uint8))])
    with pytest.raises(InputError, match=r"panel 'a': expected uint8 \(H,W,3\) RGB, got float32"):
        side_by_side([("a", ok.astype(np.float32))])


def _with_normalisation(src: Path, dst: Path, norm: Normalisation | None) -> Path:
    shutil.copytree(src, dst)
    doc = json.loads((dst / "model.json").read_text())
    for entry in doc["inputs"] + doc["outputs"]:
        entry.pop("normalization", None)
    if norm is not None:
        doc["inputs"][0]["normalization"] = norm.to_json()
        doc["outputs"][0]["normalization"] = norm.inverse().to_json()
    (dst / "model.json").write_text(json.dumps(doc))
    return dst


def test_runtime_reads_the_normalisation_from_the_manifest(tmp_path: Path) -> None:
    """A model.json declaring [0, 1] pixels: the runtime feeds exactly to_net(x, [0, 1])
    to the graph and maps the output back with the same normalisation."""
    import onnxruntime as ort

    unit = Normalisation.from_range(0.0, 1.0)
    art = _with_normalisation(DEFAULT_MODEL, tmp_path / "unit", unit)
    assert load_manifest(art).normalisation == unit
    rgb = np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    t = Translator.from_artifact(art, backend="onnxruntime", style=2, threads=1)
    session = ort.InferenceSession(str(art / "model.onnx"), providers=["CPUExecutionProvider"])
    y = session.run(["output"], {"image": to_net(rgb, unit)[None], "style": t.style[None]})[0]
    np.testing.assert_array_equal(t.translate(rgb), from_net(y[0], unit))
    default = Translator.from_artifact(DEFAULT_MODEL, backend="onnxruntime", style=2, threads=1)
    assert np.abs(default.translate(rgb).astype(int) - t.translate(rgb)).mean() > 1.0


def test_older_manifest_without_normalisation_gets_the_net_range(tmp_path: Path) -> None:
    art = _with_normalisation(DEFAULT_MODEL, tmp_path / "old", None)
    assert load_manifest(art).normalisation == NET_RANGE
    assert load_manifest(DEFAULT_MODEL).normalisation.close_to(NET_RANGE)
