"""The ``engine`` path of ``sim2real-gan bench``: the network alone, inputs already in place.

CPU backends get normalised float32 host arrays through ``Backend.run`` (what the translator
hands them). CUDA backends get device-resident inputs, so the number is the network and not
PCIe copies of float32 frames (the message path times the copies the node really makes, in
uint8):

- torch on CUDA: uint8 frames on the device through ``TorchBackend.run_device`` (normalise,
  the FP16 channels_last network, back to uint8): one captured CUDA graph per shape replayed
  when the backend uses graphs (its serving path), else eager;
- onnxruntime on CUDA: IO binding with CUDA ``OrtValue`` inputs and a device output;
- any other backend (TensorRT): ``Backend.run`` on host arrays, as on the CPU.

Every closure returns only when the device is done, so wall-clock timing is right.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim2real_gan.artifact.pixels import to_net
from sim2real_gan.runtime import Translator
from sim2real_gan.runtime.backends.onnxruntime_backend import OnnxRuntimeBackend
from sim2real_gan.runtime.backends.torch_backend import TorchBackend


def _inputs(translator: Translator, h: int, w: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Random inputs at the size the translator runs an (h, w) frame: uint8 frames
    (1,H,W,3), the same normalised to float32 (1,3,H,W), style (1,S) or None, aux or None."""
    plan = translator._plan(h, w)
    m = translator.manifest
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (1, plan.run_h, plan.run_w, 3), dtype=np.uint8)
    image = to_net(frames, m.normalisation)
    aux = (rng.random((1, m.aux_channels, plan.run_h, plan.run_w), dtype=np.float32)
           if m.aux_channels else None)
    return frames, image, translator._styles(1), aux


def _torch_cuda(backend: TorchBackend, frames: np.ndarray, style: np.ndarray | None,
                aux: np.ndarray | None) -> Callable[[], object]:
    import torch

    dev = backend.device
    f = torch.from_numpy(frames).to(dev)
    s = torch.from_numpy(style).to(dev) if style is not None else None
    a = torch.from_numpy(aux).to(dev) if aux is not None else None

    def step() -> object:
        with torch.inference_mode():
            out = backend.run_device(f, s, a)
        torch.cuda.synchronize(dev)
        return out

    return step


def _onnxruntime_cuda(backend: OnnxRuntimeBackend, image: np.ndarray, style: np.ndarray | None,
                      aux: np.ndarray | None) -> Callable[[], object]:
    import onnxruntime as ort

    dev_id = int(backend.device.split(":")[1]) if ":" in backend.device else 0
    feeds = {"image": image, "style": style, "aux": aux}
    binding = backend.session.io_binding()
    values = [ort.OrtValue.ortvalue_from_numpy(feeds[k], "cuda", dev_id)
              for k in backend.input_names]
    for name, value in zip(backend.input_names, values, strict=True):
        binding.bind_ortvalue_input(name, value)
    binding.bind_output("output", "cuda", dev_id)

    def step() -> object:
        backend.session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        return values  # keeps the bound device inputs alive with the closure

    return step


def engine_step(translator: Translator, h: int, w: int) -> Callable[[], object]:
    """A closure running the translator's network once on an (h, w) frame's worth of input
    (see the module docstring for where the inputs live)."""
    backend = translator.backend
    frames, image, style, aux = _inputs(translator, h, w)
    if backend.device.startswith("cuda"):
        if isinstance(backend, TorchBackend):
            return _torch_cuda(backend, frames, style, aux)
        if isinstance(backend, OnnxRuntimeBackend):
            return _onnxruntime_cuda(backend, image, style, aux)
    return lambda: backend.run(image, style, aux)


def precision(translator: Translator) -> str:
    """What the row's arithmetic is: ``fp16 + graphs`` (torch CUDA), ``fp32`` (ONNX Runtime
    with the FP32 graph, eager torch), ``fp16 graph`` (an artifact exported with --fp16)."""
    backend = translator.backend
    if isinstance(backend, TorchBackend):
        name = "fp16" if backend.half else "fp32"
        return f"{name} + graphs" if backend.cuda_graphs else name
    if isinstance(backend, OnnxRuntimeBackend):
        return "fp16 graph" if translator.manifest.fp16_internal else "fp32"
    return "as built"
