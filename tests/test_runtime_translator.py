"""Translator: same-size output for any camera size, styles, backends agree, input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.runtime import BackendUnavailable, InputError, Translator
from test_export_onnx import make_artifact


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("rt_plain"))


@pytest.fixture(scope="module")
def tex_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("rt_tex"), aux=("uv",), texture=4)


def frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth synthetic RGB frame (gradients + a disc), uint8 (H,W,3)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 127 + 120 * np.sin(x / 9 + seed)
    g = 127 + 120 * np.cos(y / 7 - seed)
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(h, w) / 4) ** 2, 230.0, 30.0)
    return np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("size_mode", ["native", "working"])
@pytest.mark.parametrize("hw", [(190, 250), (1, 7), (64, 64), (33, 17)])
def test_output_same_size_as_input(artifact: Path, size_mode: str, hw: tuple[int, int]) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime", size_mode=size_mode)
    out = t.translate(frame(*hw))
    assert out.shape == (*hw, 3) and out.dtype == np.uint8 and out.flags.c_contiguous


def test_native_padding_keeps_pixels_aligned(artifact: Path) -> None:
    """A frame whose size is a multiple of size_multiple runs unresampled (output equals the
    raw backend output); an odd-sized frame's output is the crop of its padded run."""
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    rgb = frame(48, 64)
    direct = t.backend.run_frames(rgb[None], t._styles(1), None)[0]
    np.testing.assert_array_equal(t.translate(rgb), direct)
    odd = rgb[:46, :63]
    padded = np.pad(odd, ((0, 2), (0, 1), (0, 0)), mode="reflect")
    direct = t.backend.run_frames(padded[None], t._styles(1), None)[0]
    np.testing.assert_array_equal(t.translate(odd), direct[:46, :63])


def test_style_switching_changes_output_and_is_deterministic(artifact: Path) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    rgb = frame(64, 80)
    base = t.translate(rgb)
    np.testing.assert_array_equal(base, t.translate(rgb))  # fixed style: deterministic
    code = t.set_style(3)
    s3 = t.translate(rgb)
    assert np.abs(s3.astype(int) - base).mean() > 1.0
    np.testing.assert_array_equal(s3, t.translate(rgb))
    t.set_style("seed_3")  # the bank's seed_3 is the same code as seed 3
    np.testing.assert_array_equal(t.style, code)
    np.testing.assert_array_equal(t.translate(rgb), s3)
    t.set_style(code.tolist())  # an explicit code
    np.testing.assert_array_equal(t.translate(rgb), s3)
    t.set_style(None)
    np.testing.assert_array_equal(t.translate(rgb), base)
    other = Translator.from_artifact(artifact, backend="onnxruntime", style=3)
    np.testing.assert_array_equal(other.translate(rgb), s3)


def test_style_errors(artifact: Path) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    with pytest.raises(KeyError, match="style bank"):
        t.set_style("nope")
    with pytest.raises(ValueError, match="expected 4 values"):
        t.set_style([0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        t.set_style([0.0, np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match="no style encoder"):
        t.set_style(frame(32, 32))
    with pytest.raises(TypeError, match="bool"):
        t.set_style(True)


@pytest.mark.parametrize("size_mode", ["native", "working"])
def test_torch_and_onnxruntime_agree(artifact: Path, size_mode: str) -> None:
    rgb = frame(90, 122, seed=2)
    outs = []
    for backend in ("torch", "onnxruntime"):
        t = Translator.from_artifact(artifact, backend=backend, device="cpu",
                                     size_mode=size_mode, style=5)
        assert t.backend.name == backend
        outs.append(t.translate(rgb).astype(int))
    assert np.abs(outs[0] - outs[1]).max() <= 2  # FP32 graph vs eager: rounding only


def test_batch_path_matches_frame_path(artifact: Path) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime", style=1)
    frames = [frame(50, 70, seed=s) for s in range(3)]
    batch = t.translate_batch(frames)
    assert batch.shape == (3, 50, 70, 3)
    for f, b in zip(frames, batch, strict=True):
        assert np.abs(t.translate(f).astype(int) - b).max() <= 1
    np.testing.assert_array_equal(t.translate_batch(np.stack(frames)), batch)


def test_texture_model_needs_uv(tex_artifact: Path) -> None:
    t = Translator.from_artifact(tex_artifact, backend="onnxruntime")
    rgb = frame(60, 90)
    uv = np.random.default_rng(0).random((60, 90, 2), dtype=np.float32)
    out = t.translate(rgb, uv=uv)
    assert out.shape == (60, 90, 3)
    np.testing.assert_array_equal(out, t.translate(rgb, aux=uv))
    moved = t.translate(rgb, uv=np.roll(uv, 17, axis=1))
    assert np.abs(moved.astype(int) - out).max() > 0  # the texture really is read
    with pytest.raises(InputError, match="needs uv .* topic 'uv' \\(32FC2\\)"):
        t.translate(rgb)
    with pytest.raises(InputError, match="float32, got float64"):
        t.translate(rgb, uv=uv.astype(np.float64))
    with pytest.raises(InputError, match=r"expected \(60,90,2\)"):
        t.translate(rgb, uv=uv[:50])
    with pytest.raises(InputError, match="does not use"):
        t.translate(rgb, uv=uv, depth=np.zeros((60, 90), np.float32))
    tb = Translator.from_artifact(tex_artifact, backend="torch")
    assert np.abs(tb.translate(rgb, uv=uv).astype(int) - out).max() <= 2


def test_bad_frames_give_specific_errors(artifact: Path) -> None:
    t = Translator.from_artifact(artifact, backend="onnxruntime")
    rgb = frame(32, 32)
    with pytest.raises(InputError, match="uint8 \\(H,W,3\\) RGB, got float32"):
        t.translate(rgb.astype(np.float32))
    with pytest.raises(InputError, match=r"got uint8 \(32, 32, 4\)"):
        t.translate(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(InputError, match=r"got uint8 \(32, 32\)"):
        t.translate(rgb[:, :, 0])
    with pytest.raises(InputError, match="numpy"):
        t.translate(rgb.tolist())
    with pytest.raises(InputError, match="takes no aux"):
        t.translate(rgb, uv=np.zeros((32, 32, 2), np.float32))
    with pytest.raises(InputError, match="same size"):
        t.translate_batch([rgb, frame(16, 16)])
    with pytest.raises(InputError, match="no frames"):
        t.translate_batch([])


def test_backend_selection_errors(artifact: Path, tmp_path: Path) -> None:
    t = Translator.from_artifact(artifact)  # auto on this machine: the fastest that starts
    assert t.backend.label in ("tensorrt-cuda", "torch-cuda", "onnxruntime-cuda",
                               "onnxruntime-cpu")
    with pytest.raises(ValueError, match="unknown backend"):
        Translator.from_artifact(artifact, backend="tflite")
    with pytest.raises(ValueError, match="size_mode"):
        Translator.from_artifact(artifact, size_mode="stretch")
    with pytest.raises(FileNotFoundError):
        Translator.from_artifact(tmp_path / "missing")
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    if not has_cuda:
        with pytest.raises(BackendUnavailable, match="CUDA"):
            Translator.from_artifact(artifact, backend="torch", device="cuda")
        with pytest.raises(BackendUnavailable):
            Translator.from_artifact(artifact, backend="tensorrt")


def test_onnx_truncated_file_is_reported(artifact: Path, tmp_path: Path) -> None:
    import shutil

    from sim2real_gan.runtime.backends.onnxruntime_backend import OnnxRuntimeBackend

    bad = tmp_path / "a"
    shutil.copytree(artifact, bad)
    data = (bad / "model.onnx").read_bytes()
    (bad / "model.onnx").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="not a valid ONNX model"):
        OnnxRuntimeBackend(bad / "model.onnx")


def test_reference_image_styles(tmp_path: Path) -> None:
    """A checkpoint with a style encoder: style_encoder.onnx, --style-ref bank entries and
    set_style(reference image) agree with the PyTorch encoder."""
    import torch
    from sim2real_gan.cli.main import main
    from sim2real_gan.export import load_manifest
    from sim2real_gan.models import build_generator, build_style_encoder, get_preset, save_generator

    cfg = get_preset("tiny")
    torch.manual_seed(3)
    enc = build_style_encoder(cfg)
    save_generator(tmp_path / "ckpt", build_generator(cfg), cfg, style_encoder=enc)
    ref = frame(80, 100, seed=7)
    import cv2

    cv2.imwrite(str(tmp_path / "ref.png"), cv2.cvtColor(ref, cv2.COLOR_RGB2BGR))
    assert main(["export", str(tmp_path / "ckpt"), str(tmp_path / "art"), "--style-ref",
                 f"or_light={tmp_path / 'ref.png'}", "--working-resolution", "64x64"]) == 0
    m = load_manifest(tmp_path / "art")
    assert m.style_encoder_file == "style_encoder.onnx" and "or_light" in m.styles
    t = Translator.from_artifact(tmp_path / "art", backend="onnxruntime")
    code = t.set_style(ref)
    np.testing.assert_allclose(code, m.styles["or_light"], atol=1e-4)
    x = torch.from_numpy(cv2.resize(ref, (64, 64), interpolation=cv2.INTER_AREA))
    with torch.no_grad():
        want = enc.eval()(x.permute(2, 0, 1)[None].float() / 127.5 - 1)[0].numpy()
    np.testing.assert_allclose(code, want, atol=1e-4)
    with pytest.raises(ValueError, match=r"expected uint8 \(H,W,3\) RGB"):
        t.set_style(np.zeros((8, 8, 4), np.uint8))
    assert main(["export", str(tmp_path / "ckpt"), str(tmp_path / "b"), "--style-ref",
                 f"x={tmp_path / 'missing.png'}"]) == 2
