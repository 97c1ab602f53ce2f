"""The shipped models/default artifact is loadable and matches its own checkpoint files.

If this fails after the checkpoint in models/default was updated, re-export in place:
``sim2real-gan export models/default models/default --force``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DEFAULT = Path(__file__).resolve().parents[1] / "models" / "default"
pytestmark = pytest.mark.skipif(not (DEFAULT / "model.json").is_file(),
                                reason="models/default has no exported artifact yet")
REEXPORT = "re-export: sim2real-gan export models/default models/default --force"


def test_default_artifact_is_current() -> None:
    from sim2real_gan.export.artifact import content_hash, load_manifest

    m = load_manifest(DEFAULT)  # schema + model.onnx hash
    files = ["model.onnx", "generator.safetensors", "config.json", "style_encoder.safetensors",
             "style_encoder.onnx"]
    assert content_hash(DEFAULT, files) == m.content_hash, \
        f"models/default files changed since export; {REEXPORT}"
    assert m.parity["fp32"]["ok"]


def test_default_artifact_onnx_matches_weights() -> None:
    from sim2real_gan.runtime import Translator

    y, x = np.mgrid[0:72, 0:96]
    rgb = np.stack([x * 2, y * 3, (x + y) % 256], -1).astype(np.uint8)
    outs = [Translator.from_artifact(DEFAULT, backend=b, device="cpu", style=1).translate(rgb)
            for b in ("onnxruntime", "torch")]
    assert outs[0].shape == rgb.shape
    assert np.abs(outs[0].astype(int) - outs[1]).max() <= 2, \
        f"model.onnx disagrees with generator.safetensors; {REEXPORT}"
