"""Inference backends behind one interface, an explicit registry and ``auto`` selection.

``auto`` tries, fastest first: tensorrt (CUDA) > torch (CUDA, FP16, CUDA graphs) >
onnxruntime (CUDA) > onnxruntime (CPU). On a CPU, ONNX Runtime is several times faster
than eager PyTorch for these generators, so torch-cpu is never chosen automatically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sim2real_gan.export.artifact import ModelManifest

from .base import Backend, BackendUnavailable

log = logging.getLogger(__name__)

BACKEND_NAMES = ("tensorrt", "torch", "onnxruntime")
AUTO_ORDER: tuple[tuple[str, str], ...] = (
    ("tensorrt", "cuda"), ("torch", "cuda"), ("onnxruntime", "cuda"), ("onnxruntime", "cpu"))


@dataclass
class BackendOptions:
    """Options for building a backend from an artifact (unused ones are ignored)."""

    threads: int | None = None  # CPU threads (onnxruntime intra-op / torch)
    spin: bool = False  # onnxruntime: busy-wait idle worker threads (lower latency when alone)
    half: bool | None = None  # torch: FP16 on CUDA (default) / FP32 on CPU
    cuda_graphs: bool = True  # torch on CUDA
    # TensorRT
    fp16: bool = True
    resolutions: list[tuple[int, int]] = field(default_factory=list)  # exact profiles (H, W)
    max_batch: int = 1
    dynamic_range: tuple[tuple[int, int], tuple[int, int]] | None = None
    engine_cache_dir: str | Path | None = None
    force_engine_update: bool = False


def _cuda_index(device: str) -> str:
    return device if ":" in device else f"{device}:0"


def _torch_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def create_backend(name: str, artifact: str | Path, manifest: ModelManifest, device: str,
                   options: BackendOptions | None = None) -> Backend:
    """Build backend ``name`` ("tensorrt" | "torch" | "onnxruntime") on ``device``.

    Raises:
        BackendUnavailable: the backend cannot run here (the message says why).
        ValueError: unknown backend or device.
    """
    opts = options or BackendOptions()
    artifact = Path(artifact)
    if name == "onnxruntime":
        from .onnxruntime_backend import OnnxRuntimeBackend

        dev = "cpu" if device == "cpu" else _cuda_index(device)
        return OnnxRuntimeBackend(artifact / manifest.onnx_file, dev, opts.threads, opts.spin)
    if name == "torch":
        from .torch_backend import TorchBackend

        if device.startswith("cuda") and not _torch_cuda():
            raise BackendUnavailable("torch backend: no CUDA device visible to torch")
        dev = "cpu" if device == "cpu" else _cuda_index(device)
        return TorchBackend.from_checkpoint(artifact, dev, half=opts.half,
                                            cuda_graphs=opts.cuda_graphs, threads=opts.threads)
    if name == "tensorrt":
        from .tensorrt_backend import TensorRTBackend, tensorrt_available

        if device == "cpu":
            raise ValueError("tensorrt backend runs on CUDA only; got device 'cpu'")
        if not tensorrt_available():
            raise BackendUnavailable("tensorrt backend: the tensorrt package or a CUDA GPU "
                                     "is missing")
        from sim2real_gan.export.engine_cache import BuildSettings, EngineKey, make_profiles
        from sim2real_gan.export.onnx_export import graph_input_names
        from sim2real_gan.export.tensorrt_build import current_device, ensure_engine

        dev = _cuda_index(device)
        resolutions = opts.resolutions or [tuple(manifest.working_resolution)]
        settings = BuildSettings(fp16=opts.fp16, profiles=make_profiles(
            resolutions, opts.max_batch, opts.dynamic_range, manifest.size_multiple))
        onnx_path = artifact / manifest.onnx_file
        plan = ensure_engine(onnx_path, manifest.onnx_sha256, settings,
                             graph_input_names(onnx_path), cache_dir=opts.engine_cache_dir,
                             force_update=opts.force_engine_update,
                             device_index=int(dev.split(":")[1]),
                             model_name=f"{manifest.preset}")
        import tensorrt as trt

        key = EngineKey(manifest.onnx_sha256, current_device(int(dev.split(":")[1])),
                        trt.__version__, settings)
        return TensorRTBackend(plan.engine_path, settings, key, dev)
    raise ValueError(f"unknown backend {name!r}; expected 'auto' or one of {BACKEND_NAMES}")


def resolve_backend(name: str, artifact: str | Path, manifest: ModelManifest,
                    device: str | None = None,
                    options: BackendOptions | None = None) -> Backend:
    """``name`` may be "auto": the first backend of :data:`AUTO_ORDER` that starts here.

    With an explicit ``name`` and no ``device``, CUDA is used when available (else CPU).
    """
    if name != "auto":
        if device is None:
            device = "cuda" if name == "tensorrt" or (_torch_cuda() and name == "torch") \
                else "cpu"
            if name == "onnxruntime":
                from .onnxruntime_backend import cuda_provider_available

                device = "cuda" if cuda_provider_available() else "cpu"
        return create_backend(name, artifact, manifest, device, options)
    reasons = []
    for cand, dev in AUTO_ORDER:
        if device is not None and not dev.startswith(device.split(":")[0]):
            continue
        try:
            backend = create_backend(cand, artifact, manifest, device or dev, options)
        except BackendUnavailable as exc:
            reasons.append(f"{cand}-{dev}: {exc}")
            continue
        log.info("backend auto -> %s", backend.label)
        return backend
    raise BackendUnavailable("no backend could start: " + "; ".join(reasons))


__all__ = ["AUTO_ORDER", "BACKEND_NAMES", "Backend", "BackendOptions", "BackendUnavailable",
           "create_backend", "resolve_backend"]
