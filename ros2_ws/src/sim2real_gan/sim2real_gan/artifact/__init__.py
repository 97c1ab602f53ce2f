"""What a model artifact is, in one torch-free place shared by export, runtime, CLI and node.

* :mod:`.registry` - file names, graph I/O names, the aux registry (:data:`AUX_SOURCES`), the
  pixel normalisation (:class:`Normalisation`, :data:`NET_RANGE`), the backend names
  (:data:`BACKEND_NAMES`).
* :mod:`.manifest` - ``model.json`` (:class:`ModelManifest`): schema, parsing, consistency.
* :mod:`.files` - :func:`load_manifest` (every check, one :class:`ArtifactError` line each),
  hashes, :func:`write_manifest`; :mod:`.graph` reads ONNX graph I/O with ``onnx``.
* :mod:`.styles` - the one style syntax (:class:`StyleSpec`) and :func:`seed_style`.
* :mod:`.pixels` (numpy + OpenCV, imported on its own) - ``to_net`` / ``from_net`` and the one
  uint8 frame check.

Nothing here imports torch, ``training``, ``export``, ``runtime`` or rclpy.
"""

from .fields import ArtifactError, ArtifactFileMissing
from .files import content_hash, load_manifest, sha256_file, write_manifest
from .manifest import ModelManifest, StylePrior
from .registry import (
    AUX_SOURCES,
    BACKEND_CHOICES,
    BACKEND_NAMES,
    CONFIG_FILE,
    MANIFEST_FILE,
    NET_RANGE,
    ONNX_FILE,
    STYLE_ENCODER_FILE,
    WEIGHTS_FILE,
    AuxSource,
    Normalisation,
)
from .styles import (
    STYLE_SYNTAX,
    StyleError,
    StyleSpec,
    UnknownStyleError,
    prior_style,
    seed_style,
)

__all__ = [
    "StylePrior",
    "prior_style",
    "AUX_SOURCES", "BACKEND_CHOICES", "BACKEND_NAMES", "CONFIG_FILE", "MANIFEST_FILE",
    "NET_RANGE", "ONNX_FILE", "STYLE_ENCODER_FILE", "STYLE_SYNTAX", "WEIGHTS_FILE",
    "ArtifactError", "ArtifactFileMissing", "AuxSource", "ModelManifest", "Normalisation",
    "StyleError", "StyleSpec", "UnknownStyleError", "content_hash", "load_manifest",
    "seed_style", "sha256_file", "write_manifest",
]
