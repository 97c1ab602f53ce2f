"""PyTorch generator -> ONNX model artifact (+ parity check). Needs torch.

The artifact's manifest (schema, checks, aux registry, normalisation) lives in the torch-free
:mod:`sim2real_gan.artifact`, which the runtime reads; the TensorRT engine cache is part of
the runtime (:mod:`sim2real_gan.runtime.engine_cache`). This package imports the runtime's
ONNX Runtime session helper for the parity check; the runtime never imports this package.
"""

from sim2real_gan.artifact import (
    AUX_SOURCES,
    ArtifactError,
    AuxSource,
    ModelManifest,
    load_manifest,
)

from .exporter import ExportOptions, ModelSpec, export_artifact, export_module

__all__ = ["AUX_SOURCES", "ArtifactError", "AuxSource", "ExportOptions", "ModelManifest",
           "ModelSpec", "export_artifact", "export_module", "load_manifest"]
