"""PyTorch backend: CPU (FP32), or CUDA with FP16 weights, channels_last and CUDA graphs."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sim2real_gan.artifact import NET_RANGE, Normalisation

from .base import Backend, BackendUnavailable

MAX_GRAPHS = 4  # captured CUDA graphs kept (one per input shape), least recently used dropped


class _CapturedGraph:
    """One CUDA graph for a fixed (B,H,W): uint8 frames in, uint8 frames out, all on device."""

    def __init__(self, model: nn.Module, frames: torch.Tensor, style: torch.Tensor | None,
                 aux: torch.Tensor | None, dtype: torch.dtype, norm: Normalisation) -> None:
        self.frames, self.style, self.aux = frames, style, aux
        self.graph = torch.cuda.CUDAGraph()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):  # warm-up (cuDNN autotune, allocator) outside the capture
                _device_forward(model, frames, style, aux, dtype, norm)
        torch.cuda.current_stream().wait_stream(side)
        with torch.cuda.graph(self.graph):
            self.out = _device_forward(model, frames, style, aux, dtype, norm)


def _device_forward(model: nn.Module, frames: torch.Tensor, style: torch.Tensor | None,
                    aux: torch.Tensor | None, dtype: torch.dtype,
                    norm: Normalisation) -> torch.Tensor:
    """uint8 (B,H,W,3) on device -> uint8 (B,H,W,3): normalise (``norm``), run, back."""
    x = norm.apply(frames.permute(0, 3, 1, 2).to(dtype))
    x = x.contiguous(memory_format=torch.channels_last)
    s = style.to(dtype) if style is not None else None
    a = aux.to(dtype).contiguous(memory_format=torch.channels_last) if aux is not None else None
    y = norm.inverse().apply(model(x, s, a).float())
    return y.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


class TorchBackend(Backend):
    """Runs an ``nn.Module`` generator; ``device`` "cpu" or "cuda[:N]".

    On CUDA: FP16 weights (``half=True``), channels_last memory and, with
    ``cuda_graphs=True``, one captured graph per input shape replayed each frame.
    """

    name = "torch"

    def __init__(self, model: nn.Module, device: str = "cpu", half: bool | None = None,
                 cuda_graphs: bool = True, threads: int | None = None, *,
                 norm: Normalisation = NET_RANGE) -> None:
        super().__init__(norm)
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendUnavailable("torch backend: CUDA requested but torch.cuda is not "
                                     "available (CPU-only torch build or no GPU)")
        if device != "cpu" and not device.startswith("cuda"):
            raise ValueError(f"torch backend: device must be 'cpu' or 'cuda[:N]', got {device!r}")
        self.device = device
        self.cuda = device.startswith("cuda")
        self.half = self.cuda if half is None else bool(half)
        self.dtype = torch.float16 if self.half else torch.float32
        self.cuda_graphs = cuda_graphs and self.cuda
        if threads:  # explicit request only: torch's thread count is process-wide
            torch.set_num_threads(threads)
        model = model.eval().to(device)
        if self.cuda:
            model = model.to(dtype=self.dtype, memory_format=torch.channels_last)
        for p in model.parameters():
            p.requires_grad_(False)
        self.model = model
        self._graphs: OrderedDict[tuple, _CapturedGraph] = OrderedDict()
        self._stream = torch.cuda.Stream(device) if self.cuda else None

    @classmethod
    def from_checkpoint(cls, directory: str | Path, device: str = "cpu",
                        **kwargs) -> TorchBackend:
        """Load ``generator.safetensors`` + ``config.json`` from an artifact or checkpoint."""
        from sim2real_gan.models import load_generator

        model, _ = load_generator(directory)
        return cls(model, device=device, **kwargs)

    def run(self, image: np.ndarray, style: np.ndarray | None,
            aux: np.ndarray | None) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(image).to(self.device, self.dtype)
            s = torch.from_numpy(style).to(self.device, self.dtype) if style is not None else None
            a = torch.from_numpy(aux).to(self.device, self.dtype) if aux is not None else None
            y = self.model(x, s, a)
            return y.float().cpu().numpy()

    def run_frames(self, frames: np.ndarray, style: np.ndarray | None,
                   aux: np.ndarray | None) -> np.ndarray:
        if not self.cuda:
            return super().run_frames(frames, style, aux)
        with torch.inference_mode(), torch.cuda.stream(self._stream):
            f = torch.from_numpy(frames).pin_memory().to(self.device, non_blocking=True)
            s = (torch.from_numpy(style).to(self.device, non_blocking=True)
                 if style is not None else None)
            a = (torch.from_numpy(aux).pin_memory().to(self.device, non_blocking=True)
                 if aux is not None else None)
            out = self.run_device(f, s, a)
            host = torch.empty(out.shape, dtype=torch.uint8, pin_memory=True)
            host.copy_(out, non_blocking=True)
        self._stream.synchronize()
        return host.numpy()

    def run_device(self, frames: torch.Tensor, style: torch.Tensor | None,
                   aux: torch.Tensor | None) -> torch.Tensor:
        """uint8 (B,H,W,3) on this CUDA device -> uint8 (B,H,W,3) there, queued on the current
        stream and not synchronised: the captured graph of this shape when ``cuda_graphs``
        (its output buffer: the next call of the same shape overwrites it), else eager.
        ``run_frames`` wraps it with the uploads and the download; benchmarks time it alone
        (call it under ``torch.inference_mode()``)."""
        if not self.cuda:
            raise ValueError(f"run_device needs a CUDA backend; this one runs on {self.device}")
        if self.cuda_graphs:
            return self._replay(frames, style, aux)
        return _device_forward(self.model, frames, style, aux, self.dtype, self.norm)

    def _replay(self, f: torch.Tensor, s: torch.Tensor | None,
                a: torch.Tensor | None) -> torch.Tensor:
        key = (tuple(f.shape), None if a is None else tuple(a.shape))
        g = self._graphs.get(key)
        if g is None:
            g = _CapturedGraph(self.model, f.clone(), None if s is None else s.clone(),
                               None if a is None else a.clone(), self.dtype, self.norm)
            self._graphs[key] = g
            if len(self._graphs) > MAX_GRAPHS:
                self._graphs.popitem(last=False)
        self._graphs.move_to_end(key)
        g.frames.copy_(f, non_blocking=True)
        if s is not None:
            g.style.copy_(s, non_blocking=True)
        if a is not None:
            g.aux.copy_(a, non_blocking=True)
        g.graph.replay()
        return g.out

    def close(self) -> None:
        self._graphs.clear()
