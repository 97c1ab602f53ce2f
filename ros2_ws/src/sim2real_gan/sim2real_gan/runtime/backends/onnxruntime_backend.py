"""ONNX Runtime backend: CPU, or CUDA when onnxruntime-gpu provides it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sim2real_gan.artifact import NET_RANGE, Normalisation

from .base import Backend, BackendUnavailable


def cpu_cores() -> int:
    """CPU cores this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def make_session(path: str | Path, providers: list | None = None,
                 threads: int | None = None, spin: bool = False):
    """An ``InferenceSession`` with full graph optimisation and ``threads`` intra-op threads.

    ``threads`` defaults to the usable cores (ONNX Runtime's own default may count
    hyper-threads or the whole machine, oversubscribing a shared box); inter-op threads
    are 1 because the generator is a single chain of ops. ``spin=False`` lets idle worker
    threads sleep instead of busy-waiting: the translator usually shares the machine with a
    simulator, and on a loaded 2-core machine spinning was no faster (docs/benchmarks.md).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.intra_op_num_threads = threads or cpu_cores()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types
        if "INVALID_PROTOBUF" in str(exc) or "Protobuf parsing failed" in str(exc):
            raise ValueError(f"{path} is not a valid ONNX model (corrupt or truncated): "
                             f"{exc}") from exc
        raise


def cuda_provider_available() -> bool:
    """True when ONNX Runtime here has the CUDA execution provider."""
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


class OnnxRuntimeBackend(Backend):
    """ONNX Runtime session over ``model.onnx``; ``device`` "cpu" or "cuda[:N]"."""

    name = "onnxruntime"

    def __init__(self, onnx_path: str | Path, device: str = "cpu",
                 threads: int | None = None, spin: bool = False, *,
                 norm: Normalisation = NET_RANGE) -> None:
        super().__init__(norm)
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable("onnxruntime is not installed") from exc
        if device.startswith("cuda"):
            if not cuda_provider_available():
                raise BackendUnavailable("onnxruntime here has no CUDAExecutionProvider "
                                         "(install onnxruntime-gpu)")
            dev_id = int(device.split(":")[1]) if ":" in device else 0
            providers = [("CUDAExecutionProvider", {"device_id": dev_id}), "CPUExecutionProvider"]
        elif device == "cpu":
            providers = ["CPUExecutionProvider"]
        else:
            raise ValueError(f"onnxruntime backend: device must be 'cpu' or 'cuda[:N]', "
                             f"got {device!r}")
        self.device = device
        self.session = make_session(onnx_path, providers, threads, spin)
        if device != "cpu" and "CUDAExecutionProvider" not in self.session.get_providers():
            # ONNX Runtime falls back to the CPU when the CUDA provider cannot load its
            # libraries: a "cuda" backend must not run on the CPU unannounced.
            raise BackendUnavailable("onnxruntime: the CUDA execution provider did not start "
                                     "(CUDA or cuDNN libraries missing?); the session fell "
                                     f"back to {self.session.get_providers()}")
        self.input_names = [i.name for i in self.session.get_inputs()]
        self._binding = self.session.io_binding()
        self._out: np.ndarray | None = None

    def run(self, image: np.ndarray, style: np.ndarray | None,
            aux: np.ndarray | None) -> np.ndarray:
        feeds = {"image": image, "style": style, "aux": aux}
        if self.device != "cpu":
            return self.session.run(["output"], {k: feeds[k] for k in self.input_names})[0]
        # CPU: bind inputs and a reusable output buffer (no per-frame output allocation).
        b = self._binding
        for k in self.input_names:
            b.bind_cpu_input(k, feeds[k])
        shape = image.shape
        if self._out is None or self._out.shape != shape:
            self._out = np.empty(shape, np.float32)
        b.bind_output("output", "cpu", 0, np.float32, list(shape), self._out.ctypes.data)
        self.session.run_with_iobinding(b)
        return self._out
