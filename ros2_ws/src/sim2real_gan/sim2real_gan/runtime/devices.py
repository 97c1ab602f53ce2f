"""Is an NVIDIA GPU possible here? Asked of the driver libraries, without importing torch.

``auto`` backend selection uses this to skip its CUDA candidates (TensorRT, torch-cuda,
onnxruntime-cuda) on machines without an NVIDIA driver, so choosing ONNX Runtime on a CPU
never loads torch. When a GPU is possible, the backend's own check (torch, TensorRT, ONNX
Runtime) stays the authority.
"""

from __future__ import annotations

import ctypes
import functools
import os

NVML_LIBS = ("libnvidia-ml.so.1", "nvml.dll")
CUDA_LIBS = ("libcuda.so.1", "nvcuda.dll")


def _load(names: tuple[str, ...]) -> ctypes.CDLL | None:
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


@functools.cache
def nvidia_gpu_possible() -> bool:
    """False when no CUDA device can be visible: ``CUDA_VISIBLE_DEVICES`` is empty or -1,
    or neither NVML nor the CUDA driver library loads, or NVML counts no device. NVML does
    not initialise CUDA, so this is safe before ``fork``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    nvml = _load(NVML_LIBS)
    if nvml is None:
        return _load(CUDA_LIBS) is not None
    count = ctypes.c_uint(0)
    if nvml.nvmlInit_v2() != 0:
        return _load(CUDA_LIBS) is not None
    try:
        ok = nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0
    finally:
        nvml.nvmlShutdown()
    return ok and count.value > 0
