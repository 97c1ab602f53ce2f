"""Inference backends behind one interface, an explicit registry and ``auto`` selection.

``auto`` tries, fastest first: tensorrt (CUDA) > torch (CUDA, FP16, CUDA graphs) >
onnxruntime (CUDA) > onnxruntime (CPU). On a CPU, ONNX Runtime is several times faster
than eager PyTorch for these generators, so torch-cpu is never chosen automatically.

Importing this package imports no backend library: each factory in :data:`BACKENDS` imports
its own module (and torch, TensorRT or ONNX Runtime) only when that backend is built. The
CUDA candidates of ``auto`` are skipped without importing torch when no NVIDIA driver is
present (:func:`~sim2real_gan.runtime.devices.nvidia_gpu_possible`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sim2real_gan.artifact import BACKEND_NAMES, ModelManifest

from ..devices import nvidia_gpu_possible
from .base import Backend, BackendUnavailable

log = logging.getLogger(__name__)

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


def _onnxruntime(artifact: Path, manifest: ModelManifest, device: str,
                 opts: BackendOptions) -> Backend:
    from .onnxruntime_backend import OnnxRuntimeBackend

    dev = "cpu" if device == "cpu" else _cuda_index(device)
    return OnnxRuntimeBackend(artifact / manifest.onnx_file, dev, opts.threads, opts.spin,
                              norm=manifest.normalisation)


def _torch(artifact: Path, manifest: ModelManifest, device: str, opts: BackendOptions) -> Backend:
    weights = artifact / manifest.weights_file
    if not weights.is_file():
        raise BackendUnavailable(f"torch backend: {weights} is missing (the artifact carries "
                                 f"no PyTorch weights); use onnxruntime or tensorrt")
    if device.startswith("cuda") and not nvidia_gpu_possible():
        raise BackendUnavailable("torch backend: no CUDA device (no NVIDIA GPU driver on this machine)")
    try:
        from .torch_backend import TorchBackend  # imports torch: only when torch is chosen
    except ImportError as exc:
        raise BackendUnavailable(f"torch backend: torch cannot be imported ({exc})") from exc
    dev = "cpu" if device == "cpu" else _cuda_index(device)
    return TorchBackend.from_checkpoint(artifact, dev, half=opts.half,
                                        cuda_graphs=opts.cuda_graphs, threads=opts.threads,
                                        norm=manifest.normalisation)


def _tensorrt(artifact: Path, manifest: ModelManifest, device: str,
              opts: BackendOptions) -> Backend:
    if device == "cpu":
        raise ValueError("tensorrt backend runs on CUDA only; got device 'cpu'")
    if not nvidia_gpu_possible():
        raise BackendUnavailable("tensorrt backend: no CUDA device (no NVIDIA GPU driver on this machine)")
    from .tensorrt_backend import start_tensorrt  # imports tensorrt and torch

    return start_tensorrt(artifact, manifest, _cuda_index(device), opts)


BackendFactory = Callable[[Path, ModelManifest, str, BackendOptions], Backend]

#: The backend registry: one factory per name of :data:`BACKEND_NAMES` (a test checks it).
BACKENDS: dict[str, BackendFactory] = {
    "tensorrt": _tensorrt, "torch": _torch, "onnxruntime": _onnxruntime}


def create_backend(name: str, artifact: str | Path, manifest: ModelManifest, device: str,
                   options: BackendOptions | None = None) -> Backend:
    """Build backend ``name`` (one of :data:`BACKEND_NAMES`) on ``device``.

    Raises:
        BackendUnavailable: the backend cannot run here (the message says why).
        ValueError: unknown backend or device.
    """
    factory = BACKENDS.get(name)
    if factory is None:
        raise ValueError(f"unknown backend {name!r}; expected 'auto' or one of {BACKEND_NAMES}")
    return factory(Path(artifact), manifest, device, options or BackendOptions())


def _default_device(name: str) -> str:
    """The device an explicitly named backend runs on when none is given."""
    if name == "tensorrt":
        return "cuda"
    if name == "torch":
        if not nvidia_gpu_possible():
            return "cpu"
        try:
            import torch  # torch was chosen: ask it
        except ImportError:
            return "cpu"  # the factory then reports that torch is missing
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "onnxruntime":
        from .onnxruntime_backend import cuda_provider_available

        return "cuda" if nvidia_gpu_possible() and cuda_provider_available() else "cpu"
    raise ValueError(f"unknown backend {name!r}; expected 'auto' or one of {BACKEND_NAMES}")


def resolve_backend(name: str, artifact: str | Path, manifest: ModelManifest,
                    device: str | None = None,
                    options: BackendOptions | None = None) -> Backend:
    """``name`` may be "auto": the first backend of :data:`AUTO_ORDER` that starts here.

    With an explicit ``name`` and no ``device``, CUDA is used when available (else CPU).
    """
    if name != "auto":
        return create_backend(name, artifact, manifest, device or _default_device(name),
                              options)
    reasons = []
    for cand, dev in AUTO_ORDER:
        if device is not None and not dev.startswith(device.split(":")[0]):
            continue
        if dev == "cuda" and not nvidia_gpu_possible():
            reasons.append(f"{cand}-{dev}: no CUDA device (no NVIDIA GPU driver)")
            continue
        try:
            backend = create_backend(cand, artifact, manifest, device or dev, options)
        except BackendUnavailable as exc:
            reasons.append(f"{cand}-{dev}: {exc}")
            continue
        log.info("backend auto -> %s", backend.label)
        return backend
    raise BackendUnavailable("no backend could start: " + "; ".join(reasons))


__all__ = ["AUTO_ORDER", "BACKENDS", "BACKEND_NAMES", "Backend", "BackendOptions",
           "BackendUnavailable", "create_backend", "resolve_backend"]
