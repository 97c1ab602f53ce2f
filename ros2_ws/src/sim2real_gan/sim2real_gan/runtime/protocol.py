"""The translator's type for code that only uses one (node, worker, pipeline): a Protocol,
so callers need neither the concrete class nor its imports (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from sim2real_gan.artifact import ModelManifest


@runtime_checkable
class BackendLike(Protocol):
    """What users of a translator read from its backend."""

    name: str
    device: str

    @property
    def label(self) -> str:
        """Backend + device, e.g. ``onnxruntime-cpu``."""
        ...


@runtime_checkable
class TranslatorLike(Protocol):
    """The serving API of :class:`~sim2real_gan.runtime.Translator`.

    ``translate``: uint8 (H,W,3) RGB (+ aux float32 (H,W,C)) -> uint8 (H,W,3), same size;
    ``translate_batch``: (B,H,W,3) -> (B,H,W,3); ``set_style`` returns the code (style_dim,).
    """

    manifest: ModelManifest
    backend: BackendLike

    def translate(self, rgb: np.ndarray, uv: np.ndarray | None = None,
                  aux: np.ndarray | None = None,
                  depth: np.ndarray | None = None) -> np.ndarray: ...

    def translate_batch(self, frames: np.ndarray | Sequence[np.ndarray],
                        uv: Sequence[np.ndarray] | np.ndarray | None = None,
                        aux: Sequence[np.ndarray] | np.ndarray | None = None,
                        depth: Sequence[np.ndarray] | np.ndarray | None = None
                        ) -> np.ndarray: ...

    def set_style(self, style: object = None) -> np.ndarray: ...

    def close(self) -> None: ...
