"""TensorRT and CUDA backends. Skipped where TensorRT / an NVIDIA GPU is missing (conftest);
NOT run on the development machines (no GPU, TensorRT not installable)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.runtime import Translator
from test_export_onnx import make_artifact
from test_runtime_translator import frame


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("trt"), aux=("uv",), texture=4)


def _uv(h: int, w: int) -> np.ndarray:
    return np.random.default_rng(1).random((h, w, 2), dtype=np.float32)


@pytest.mark.tensorrt
def test_tensorrt_matches_onnxruntime_and_caches(artifact: Path, tmp_path: Path) -> None:
    cache = tmp_path / "engines"
    kw = dict(engine_cache_dir=cache, resolutions=[(64, 64), (96, 128)], max_batch=2,
              dynamic_range=((32, 32), (256, 256)))
    trt_t = Translator.from_artifact(artifact, backend="tensorrt", style=2, **kw)
    ort_t = Translator.from_artifact(artifact, backend="onnxruntime", style=2)
    for h, w in [(64, 64), (96, 128), (50, 70)]:  # exact profiles, then the dynamic one
        rgb, uv = frame(h, w), _uv(h, w)
        diff = np.abs(trt_t.translate(rgb, uv=uv).astype(int) - ort_t.translate(rgb, uv=uv))
        assert diff.mean() < 2.0 and diff.max() <= 24  # FP16 inside the engine
    engines = sorted(cache.glob("*.engine"))
    assert len(engines) == 1 and any(cache.glob("timing-*.cache"))
    mtime = engines[0].stat().st_mtime_ns
    Translator.from_artifact(artifact, backend="tensorrt", **kw)  # cached: no rebuild
    assert engines[0].stat().st_mtime_ns == mtime
    Translator.from_artifact(artifact, backend="tensorrt", force_engine_update=True, **kw)
    assert engines[0].stat().st_mtime_ns != mtime


@pytest.mark.tensorrt
def test_tensorrt_batch_path(artifact: Path, tmp_path: Path) -> None:
    t = Translator.from_artifact(artifact, backend="tensorrt", engine_cache_dir=tmp_path,
                                 resolutions=[(64, 64)], max_batch=4)
    frames = np.stack([frame(64, 64, s) for s in range(4)])
    out = t.translate_batch(frames, uv=[_uv(64, 64)] * 4)
    assert out.shape == (4, 64, 64, 3)
    with pytest.raises(ValueError, match="no optimisation profile"):
        t.translate_batch(np.concatenate([frames, frames]), uv=[_uv(64, 64)] * 8)


@pytest.mark.cuda
@pytest.mark.parametrize("cuda_graphs", [True, False])
def test_torch_cuda_fp16_matches_cpu(artifact: Path, cuda_graphs: bool) -> None:
    gpu = Translator.from_artifact(artifact, backend="torch", device="cuda",
                                   cuda_graphs=cuda_graphs, style=4)
    cpu = Translator.from_artifact(artifact, backend="onnxruntime", device="cpu", style=4)
    for h, w in [(64, 64), (190, 250), (64, 64)]:  # graph capture, new shape, replay
        rgb, uv = frame(h, w), _uv(h, w)
        diff = np.abs(gpu.translate(rgb, uv=uv).astype(int) - cpu.translate(rgb, uv=uv))
        assert diff.mean() < 2.0
    gpu.set_style(9)  # a new style is picked up by the captured graph
    cpu.set_style(9)
    rgb, uv = frame(64, 64), _uv(64, 64)
    assert np.abs(gpu.translate(rgb, uv=uv).astype(int) - cpu.translate(rgb, uv=uv)).mean() < 2.0
