"""Facts every side of a model artifact shares: file names, graph I/O names, the aux
registry, the pixel normalisation and the backend names. Imports nothing heavy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .fields import as_number, as_object, fail, get

FORMAT_NAME = "sim2real_gan.model"
FORMAT_VERSION = 1
MANIFEST_FILE = "model.json"
ONNX_FILE = "model.onnx"
STYLE_ENCODER_FILE = "style_encoder.onnx"
WEIGHTS_FILE = "generator.safetensors"
CONFIG_FILE = "config.json"

#: graph inputs in the order the runtime feeds them, and the one output
GRAPH_INPUTS = ("image", "style", "aux")
GRAPH_OUTPUT = "output"
#: the style encoder graph: reference image in, style code out
ENCODER_INPUT, ENCODER_OUTPUT = "image", "style"

#: the inference backends that can run an artifact (runtime.backends implements exactly
#: these); ``auto`` picks the fastest that starts
BACKEND_NAMES = ("tensorrt", "torch", "onnxruntime")
BACKEND_CHOICES = ("auto", *BACKEND_NAMES)

#: sanity bounds for numbers read from model.json
MAX_SIDE = 16384
MAX_SIZE_MULTIPLE = 512
MAX_STYLE_DIM = 4096


@dataclass(frozen=True)
class AuxSource:
    """One auxiliary input stream concatenated (in manifest order) into the ``aux`` tensor.

    ``name`` is the keyword the runtime accepts (``uv``, ``depth``); ``topic`` is the topic
    suffix under the camera namespace and ``encoding`` its sensor_msgs/Image encoding.
    """

    name: str
    topic: str
    encoding: str
    channels: int
    description: str = ""


#: The one registry of auxiliary streams a generator may consume (models.config derives its
#: channel counts from it; the manifest stores the entries a model uses, in channel order).
AUX_SOURCES: dict[str, AuxSource] = {
    "uv": AuxSource("uv", "uv", "32FC2", 2, "surface texture coordinates in [0, 1]"),
    "depth": AuxSource("depth", "depth", "32FC1", 1, "metric depth in metres"),
}


@dataclass(frozen=True)
class Normalisation:
    """Pixel <-> network value map: ``value = pixel * scale + offset`` (pixel in 0..255).

    >>> NET_RANGE.apply(255.0), NET_RANGE.inverse().apply(-1.0)
    (1.0, 0.0)
    """

    scale: float
    offset: float

    @classmethod
    def from_range(cls, low: float, high: float) -> Normalisation:
        """Pixels 0..255 mapped linearly onto ``[low, high]``."""
        return cls((high - low) / 255.0, low)

    def apply(self, pixels: Any) -> Any:
        """Float pixels (numpy array, torch tensor or number) -> network values."""
        return pixels * self.scale + self.offset

    def inverse(self) -> Normalisation:
        """The map back: network value -> pixel (before rounding and clipping)."""
        return Normalisation(1.0 / self.scale, -self.offset / self.scale)

    def close_to(self, other: Normalisation) -> bool:
        """Equal up to float rounding (JSON round trips, 2/255 vs 1/127.5)."""
        return (math.isclose(self.scale, other.scale, rel_tol=1e-6)
                and math.isclose(self.offset, other.offset, rel_tol=1e-6, abs_tol=1e-9))

    def to_json(self) -> dict[str, float]:
        return {"scale": self.scale, "offset": self.offset}

    @classmethod
    def from_json(cls, doc: Any, where: str, name: str) -> Normalisation:
        """``{"scale": s, "offset": o}`` with finite numbers and ``s != 0``."""
        d = as_object(doc, where, name)
        scale = as_number(get(d, "scale", where, f"{name}.scale"), where, f"{name}.scale")
        offset = as_number(get(d, "offset", where, f"{name}.offset"), where, f"{name}.offset")
        if scale == 0:
            raise fail(where, f"{name}.scale", "a non-zero number", scale)
        return cls(scale, offset)


#: The network's pixel range for every generator here: RGB in [-1, 1]. Training uses it
#: directly; export writes it into model.json, from where the runtime reads it.
NET_RANGE = Normalisation.from_range(-1.0, 1.0)
