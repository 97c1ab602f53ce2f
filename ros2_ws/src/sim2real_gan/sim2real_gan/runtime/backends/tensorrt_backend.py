"""TensorRT backend: a deserialised engine run with ``execute_async_v3`` on its own stream,
with torch CUDA tensors as I/O buffers.

NOT RUN on the development machines (TensorRT is not installable there); written against
the TensorRT 10 Python API. Tests are marked ``tensorrt`` and skip without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim2real_gan.artifact import NET_RANGE, ModelManifest, Normalisation

from ..engine_cache import (
    BuildSettings,
    EngineKey,
    EngineMismatchError,
    check_engine_compatible,
    make_profiles,
    select_profile,
)
from .base import Backend, BackendUnavailable

if TYPE_CHECKING:
    from . import BackendOptions


def tensorrt_available() -> bool:
    """True when ``tensorrt`` imports and torch sees a CUDA device."""
    try:
        import tensorrt  # noqa: F401
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def start_tensorrt(artifact: Path, manifest: ModelManifest, device: str,
                   opts: BackendOptions) -> TensorRTBackend:
    """Load the cached engine for this model, GPU and TensorRT version (building it on the
    first run, which takes minutes) and start a backend on ``device`` ("cuda:N")."""
    if not tensorrt_available():
        raise BackendUnavailable("tensorrt backend: the tensorrt package or a CUDA GPU "
                                 "is missing")
    import tensorrt as trt

    from ..tensorrt_build import current_device, ensure_engine

    index = int(device.split(":")[1])
    resolutions = opts.resolutions or [tuple(manifest.working_resolution)]
    settings = BuildSettings(fp16=opts.fp16, profiles=make_profiles(
        resolutions, opts.max_batch, opts.dynamic_range, manifest.size_multiple))
    plan = ensure_engine(artifact / manifest.onnx_file, manifest.onnx_sha256, settings,
                         manifest.graph_inputs, cache_dir=opts.engine_cache_dir,
                         force_update=opts.force_engine_update, device_index=index,
                         model_name=f"{manifest.preset}")
    key = EngineKey(manifest.onnx_sha256, current_device(index), trt.__version__, settings)
    return TensorRTBackend(plan.engine_path, settings, key, device, norm=manifest.normalisation)


class TensorRTBackend(Backend):
    """Runs a serialised engine; uint8 frames are normalised on the GPU by torch."""

    name = "tensorrt"

    def __init__(self, engine_path: str | Path, settings: BuildSettings, key: EngineKey,
                 device: str = "cuda:0", *, norm: Normalisation = NET_RANGE) -> None:
        super().__init__(norm)
        if not tensorrt_available():
            raise BackendUnavailable("tensorrt backend needs the tensorrt package and a CUDA "
                                     "GPU visible to torch")
        import tensorrt as trt
        import torch

        self.device = device
        self.torch = torch
        self.settings = settings
        engine_path = Path(engine_path)
        meta = engine_path.with_suffix(".json")
        check_engine_compatible(meta, key)  # clear error before TensorRT's own
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(engine_path.read_bytes())
        if self.engine is None:
            raise EngineMismatchError(
                f"TensorRT {trt.__version__} could not deserialise {engine_path}: it was built "
                f"for another GPU or TensorRT version, or is corrupt; rebuild it with "
                f"force_engine_update=True")
        self.context = self.engine.create_execution_context()
        self.names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.inputs = [n for n in self.names
                       if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        for n in self.names:
            if self.engine.get_tensor_dtype(n) != trt.DataType.FLOAT:
                raise EngineMismatchError(f"{engine_path}: tensor {n!r} is "
                                          f"{self.engine.get_tensor_dtype(n)}, expected FP32 I/O "
                                          f"(export keeps FP32 at the graph boundary)")
        self.stream = torch.cuda.Stream(device)
        self._profile = -1
        self._buffers: dict[str, torch.Tensor] = {}
        self._shape_key: tuple | None = None

    def _prepare(self, b: int, h: int, w: int, style_dim: int, aux_c: int) -> None:
        """Select the profile, set input shapes and bind (re)allocated buffers."""
        torch = self.torch
        key = (b, h, w, style_dim, aux_c)
        if key == self._shape_key:
            return
        profile = select_profile(self.settings.profiles, b, h, w)
        if profile != self._profile:
            self.context.set_optimization_profile_async(profile, self.stream.cuda_stream)
            self._profile = profile
        shapes = {"image": (b, 3, h, w), "style": (b, style_dim), "aux": (b, aux_c, h, w)}
        for n in self.inputs:
            if not self.context.set_input_shape(n, shapes[n]):
                raise ValueError(f"TensorRT rejected input {n!r} of shape {shapes[n]} "
                                 f"(profile {profile})")
        bufs = {}
        for n in self.names:
            shape = tuple(self.context.get_tensor_shape(n))
            bufs[n] = torch.empty(shape, dtype=torch.float32, device=self.device)
            self.context.set_tensor_address(n, bufs[n].data_ptr())
        self._buffers = bufs
        self._shape_key = key

    def _execute(self) -> None:
        if not self.context.execute_async_v3(self.stream.cuda_stream):
            raise RuntimeError("TensorRT execute_async_v3 failed (see TensorRT log)")

    def run(self, image: np.ndarray, style: np.ndarray | None,
            aux: np.ndarray | None) -> np.ndarray:
        torch = self.torch
        b, _, h, w = image.shape
        self._prepare(b, h, w, 0 if style is None else style.shape[1],
                      0 if aux is None else aux.shape[1])
        with torch.cuda.stream(self.stream):
            self._buffers["image"].copy_(torch.from_numpy(image), non_blocking=True)
            if style is not None:
                self._buffers["style"].copy_(torch.from_numpy(style), non_blocking=True)
            if aux is not None:
                self._buffers["aux"].copy_(torch.from_numpy(aux), non_blocking=True)
            self._execute()
            out = self._buffers["output"].cpu()
        return out.numpy()

    def run_frames(self, frames: np.ndarray, style: np.ndarray | None,
                   aux: np.ndarray | None) -> np.ndarray:
        torch = self.torch
        b, h, w, _ = frames.shape
        self._prepare(b, h, w, 0 if style is None else style.shape[1],
                      0 if aux is None else aux.shape[1])
        with torch.inference_mode(), torch.cuda.stream(self.stream):
            f = torch.from_numpy(frames).pin_memory().to(self.device, non_blocking=True)
            img = self._buffers["image"]
            img.copy_(self.norm.apply(f.permute(0, 3, 1, 2).float()))
            if style is not None:
                self._buffers["style"].copy_(torch.from_numpy(style), non_blocking=True)
            if aux is not None:
                self._buffers["aux"].copy_(torch.from_numpy(aux).pin_memory(), non_blocking=True)
            self._execute()
            y = self.norm.inverse().apply(self._buffers["output"]).round_().clamp_(0, 255)
            y = y.to(torch.uint8).permute(0, 2, 3, 1)
            host = torch.empty(y.shape, dtype=torch.uint8, pin_memory=True)
            host.copy_(y, non_blocking=True)
        self.stream.synchronize()
        return host.numpy()

    def close(self) -> None:
        self._buffers.clear()
        self.context = None
        self.engine = None
