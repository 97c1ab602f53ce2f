"""Compatibility names: the artifact manifest lives in :mod:`sim2real_gan.artifact` (torch-free,
shared with the runtime). Import from there in new code."""

from sim2real_gan.artifact import (
    AUX_SOURCES,
    CONFIG_FILE,
    MANIFEST_FILE,
    ONNX_FILE,
    STYLE_ENCODER_FILE,
    WEIGHTS_FILE,
    ArtifactError,
    AuxSource,
    ModelManifest,
    content_hash,
    load_manifest,
    sha256_file,
    write_manifest,
)

__all__ = ["AUX_SOURCES", "CONFIG_FILE", "MANIFEST_FILE", "ONNX_FILE", "STYLE_ENCODER_FILE",
           "WEIGHTS_FILE", "ArtifactError", "AuxSource", "ModelManifest", "content_hash",
           "load_manifest", "sha256_file", "write_manifest"]
