"""PyTorch -> ONNX model artifact (+ parity), ONNX -> TensorRT engine (cached per GPU)."""

from .artifact import AUX_SOURCES, ArtifactError, AuxSource, ModelManifest, load_manifest
from .exporter import ExportOptions, ModelSpec, export_artifact, export_module

__all__ = ["AUX_SOURCES", "ArtifactError", "AuxSource", "ExportOptions", "ModelManifest",
           "ModelSpec", "export_artifact", "export_module", "load_manifest"]
