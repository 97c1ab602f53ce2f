"""Real-time inference: one :class:`Translator` API over TensorRT, ONNX Runtime and PyTorch."""

from .backends import BACKEND_NAMES, Backend, BackendOptions, BackendUnavailable
from .translator import InputError, Translator

__all__ = ["BACKEND_NAMES", "Backend", "BackendOptions", "BackendUnavailable", "InputError",
           "Translator"]
