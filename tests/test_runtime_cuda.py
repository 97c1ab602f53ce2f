"""The CUDA paths of the runtime and the benchmark: torch FP16 + CUDA graphs, ONNX Runtime's
CUDA execution provider, the device-resident engine timing.

Marked ``cuda``: skipped where torch sees no GPU (the development machines). The GPU check
(scripts/gpu_check.sh) runs this file on a lent GPU before it benchmarks anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sim2real_gan.runtime import Translator
from test_export_onnx import make_artifact
from test_runtime_translator import frame

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_artifact(tmp_path_factory.mktemp("cuda"), seeds=2)


@pytest.fixture(scope="module")
def reference(artifact: Path) -> Translator:
    return Translator.from_artifact(artifact, backend="onnxruntime", device="cpu", style=1)


def _close(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in 8-bit levels (FP16 inside: well under 2)."""
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_graph_replays_follow_their_inputs(artifact: Path, reference: Translator) -> None:
    """Frames A, B, A through one captured graph: each output is its own frame's, not the
    capture's (a graph that kept reading its capture-time input would repeat A)."""
    gpu = Translator.from_artifact(artifact, backend="torch", device="cuda", style=1)
    assert gpu.backend.cuda_graphs and gpu.backend.half
    a, b = frame(64, 96, seed=0), frame(64, 96, seed=5)
    outs = [gpu.translate(x) for x in (a, b, a)]
    refs = [reference.translate(x) for x in (a, b, a)]
    for out, ref in zip(outs, refs, strict=True):
        assert _close(out, ref) < 2.0
    assert _close(outs[0], outs[1]) > 5 * _close(outs[0], refs[0]) + 1.0
    assert len(gpu.backend._graphs) == 1


def test_batch_and_run_device_agree_with_the_reference(artifact: Path,
                                                       reference: Translator) -> None:
    import torch

    gpu = Translator.from_artifact(artifact, backend="torch", device="cuda", style=1)
    frames = np.stack([frame(64, 64, seed=s) for s in range(3)])
    out = gpu.translate_batch(frames)
    for i in range(3):
        assert _close(out[i], reference.translate(frames[i])) < 2.0
    with torch.inference_mode():
        dev = gpu.backend.run_device(torch.from_numpy(frames).cuda(),
                                     torch.from_numpy(gpu._styles(3)).cuda(), None)
    torch.cuda.synchronize()
    assert dev.is_cuda and dev.dtype == torch.uint8
    assert np.array_equal(dev.cpu().numpy(), out)  # same graph, same input: same bytes


def test_engine_step_keeps_the_inputs_on_the_device(artifact: Path) -> None:
    from sim2real_gan.benchmark_engine import engine_step, precision

    gpu = Translator.from_artifact(artifact, backend="torch", device="cuda", style=1)
    out = engine_step(gpu, 128, 128)()
    assert out.is_cuda and tuple(out.shape) == (1, 128, 128, 3)
    assert precision(gpu) == "fp16 + graphs"


def test_onnxruntime_cuda_matches_cpu(artifact: Path, reference: Translator) -> None:
    from sim2real_gan.benchmark_engine import engine_step
    from sim2real_gan.runtime.backends.onnxruntime_backend import cuda_provider_available

    if not cuda_provider_available():
        pytest.skip("onnxruntime here has no CUDAExecutionProvider (onnxruntime-gpu missing)")
    gpu = Translator.from_artifact(artifact, backend="onnxruntime", device="cuda", style=1)
    assert gpu.backend.session.get_providers()[0] == "CUDAExecutionProvider"
    for seed in (0, 3):
        rgb = frame(96, 128, seed=seed)
        assert _close(gpu.translate(rgb), reference.translate(rgb)) < 0.5  # FP32 (TF32)
    engine_step(gpu, 96, 128)()


def test_bench_quick_on_cuda(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim2real_gan.cli.main import main

    rc = main(["bench", "--quick", "--backends", "torch-cuda,onnxruntime-cuda",
               "--skip-unavailable", "--json", str(tmp_path / "b.json")])
    assert rc == 0
    rows = {r["backend"]: r for r in json.loads((tmp_path / "b.json").read_text())["rows"]}
    assert rows["torch-cuda"]["precision"] == "fp16 + graphs"
    assert rows["torch-eager-fp32-cuda"]["precision"] == "fp32"
    assert rows["torch-cuda"]["speedup_vs_baseline"] > 0
