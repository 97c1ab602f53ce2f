"""The interface every inference backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from sim2real_gan.artifact import NET_RANGE, Normalisation

from ..frames import FrameConverter


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (package or device missing); the message says which."""


class Backend(ABC):
    """Runs the exported generator on batches.

    Subclasses implement :meth:`run` on normalised float32 host arrays. Device backends
    (CUDA) override :meth:`run_frames` to upload uint8 and normalise on the device, which
    moves a quarter of the bytes and keeps the CPU free. ``norm`` is the model's pixel
    normalisation (model.json), used in both directions.
    """

    #: registry name, e.g. "onnxruntime"; ``device`` says where it runs ("cpu", "cuda:0")
    name: str = ""
    device: str = "cpu"

    def __init__(self, norm: Normalisation = NET_RANGE) -> None:
        self.norm = norm
        self._converter = FrameConverter(norm)

    @property
    def label(self) -> str:
        """Human-readable backend + device, e.g. ``onnxruntime-cpu``."""
        return f"{self.name}-{self.device.split(':')[0]}"

    @abstractmethod
    def run(self, image: np.ndarray, style: np.ndarray | None,
            aux: np.ndarray | None) -> np.ndarray:
        """image float32 (B,3,H,W) in the model's range (``norm``), style (B,S) or None, aux
        (B,A,H,W) or None -> float32 (B,3,H,W) in that range (may be a buffer reused by the
        next call)."""

    def run_frames(self, frames: np.ndarray, style: np.ndarray | None,
                   aux: np.ndarray | None) -> np.ndarray:
        """uint8 RGB (B,H,W,3) -> uint8 RGB (B,H,W,3); aux float32 (B,A,H,W) or None."""
        out = self.run(self._converter.to_nchw(frames), style, aux)
        return self._converter.to_frames(out)

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release device resources (optional)."""
