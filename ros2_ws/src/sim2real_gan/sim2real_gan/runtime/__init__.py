"""Real-time inference: one :class:`Translator` API over TensorRT, ONNX Runtime and PyTorch.

Importing this package loads numpy, OpenCV and the torch-free :mod:`sim2real_gan.artifact`;
a backend's library (ONNX Runtime, torch, TensorRT) is imported only when that backend is
built. Nothing here imports ``sim2real_gan.export``, ``training`` or rclpy.
"""

from sim2real_gan.artifact import BACKEND_NAMES, ArtifactError, StyleError, StyleSpec

from .backends import Backend, BackendOptions, BackendUnavailable
from .protocol import BackendLike, TranslatorLike
from .translator import InputError, Translator

__all__ = ["BACKEND_NAMES", "ArtifactError", "Backend", "BackendLike", "BackendOptions",
           "BackendUnavailable", "InputError", "StyleError", "StyleSpec", "Translator",
           "TranslatorLike"]
