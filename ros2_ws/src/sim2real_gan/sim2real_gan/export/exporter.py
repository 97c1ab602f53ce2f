"""Checkpoint -> model artifact (ONNX + model.json + weights), checked and written atomically."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from sim2real_gan.artifact import (
    AUX_SOURCES,
    CONFIG_FILE,
    MANIFEST_FILE,
    NET_RANGE,
    ONNX_FILE,
    STYLE_ENCODER_FILE,
    WEIGHTS_FILE,
    ArtifactError,
    ModelManifest,
    StylePrior,
    content_hash,
    load_manifest,
    prior_style,
    sha256_file,
    write_manifest,
)
from sim2real_gan.artifact.pixels import check_frames, to_net
from sim2real_gan.artifact.styles import check_style_name

from .atomic import atomic_directory
from .onnx_export import MIN_OPSET, convert_fp16, export_onnx, quiet_export
from .parity import FP16_TOLERANCE, FP32_TOLERANCE, ParityReport, check_parity

log = logging.getLogger(__name__)

DEFAULT_SEEDS = 8
#: files copied from the checkpoint into the artifact (when present)
COPIED_FILES = (WEIGHTS_FILE, CONFIG_FILE, "style_encoder.safetensors", "MODEL_CARD.md")
#: files that define the model (the content hash covers these; documentation is left out so
#: a model card edit does not change the model's identity)
HASHED_FILES = {ONNX_FILE, STYLE_ENCODER_FILE, WEIGHTS_FILE, CONFIG_FILE,
                "style_encoder.safetensors"}
#: files the export writes itself; never carried over from a replaced artifact
GENERATED_FILES = {ONNX_FILE, STYLE_ENCODER_FILE, MANIFEST_FILE, "model_fp32.onnx"}
#: training-only files never carried into an artifact
TRAINING_ONLY = {"trainer_state.safetensors", "trainer_state.json"}


def _carry_over(old: Path, new: Path, in_place: bool) -> None:
    """When an existing directory is replaced (``--force``), keep its extra files (a model
    card, figures) that the new export does not provide. Exporting a checkpoint directory
    in place (CHECKPOINT == OUT_DIR, as for models/default) keeps all its files, trainer
    state included; replacing another artifact never brings trainer state in."""
    if not old.is_dir():
        return
    skip = GENERATED_FILES if in_place else GENERATED_FILES | TRAINING_ONLY
    for f in old.iterdir():
        if f.is_file() and f.name not in skip and not (new / f.name).exists():
            shutil.copy2(f, new / f.name)


@dataclass
class ModelSpec:
    """What the exporter must know about a generator besides its weights."""

    preset: str
    style_dim: int
    aux: list[str]  # names from AUX_SOURCES, in the generator's channel order
    size_multiple: int
    working_resolution: tuple[int, int]


@dataclass
class ExportOptions:
    """Knobs of :func:`export_artifact` (CLI flags map 1:1)."""

    opset: int = MIN_OPSET
    fp16: bool = False
    seeds: int = DEFAULT_SEEDS  # named styles seed_0 .. seed_{n-1}
    references: dict[str, np.ndarray] = field(default_factory=dict)  # name -> uint8 RGB
    prior_frames: list[np.ndarray] = field(default_factory=list)  # target-domain uint8 RGB
    prior_source: str = ""  # where prior_frames came from (model.json's style_prior.source)
    overwrite: bool = False
    tolerance: float = FP32_TOLERANCE


def parity_shapes(spec: ModelSpec) -> list[tuple[int, int, int]]:
    """Two different non-square sizes (one with batch 2) to prove B/H/W are dynamic."""
    m = spec.size_multiple
    a = max(m * 2, 32 // m * m or m)
    return [(1, a, a + m), (2, a + 2 * m, a)]


MIN_PRIOR_FRAMES = 16
"""Fewest frames a style prior is fitted to (a covariance of 14-entry codes from fewer is
mostly the floor added to it)."""


def fit_style_prior(codes: np.ndarray, source: str = "") -> StylePrior:
    """The style prior of (N,S) codes of target-domain frames: their mean and the Cholesky
    factor of their covariance (+ 1e-4 on the diagonal, so near-constant entries keep a
    positive factor)."""
    if codes.ndim != 2 or codes.shape[0] < MIN_PRIOR_FRAMES or not np.isfinite(codes).all():
        raise ValueError(f"style prior: need at least {MIN_PRIOR_FRAMES} frames with finite "
                         f"codes, got {codes.shape[0] if codes.ndim == 2 else 0}")
    c = codes.astype(np.float64)
    chol = np.linalg.cholesky(np.cov(c.T) + 1e-4 * np.eye(c.shape[1]))
    return StylePrior([float(v) for v in c.mean(0)],
                      [[float(v) for v in row] for row in np.tril(chol)], int(c.shape[0]), source)


def style_bank(style_dim: int, seeds: int, encoded: dict[str, np.ndarray],
               prior: StylePrior | None = None) -> dict[str, list]:
    """``default`` (the prior's mean, or the zero code = the mean appearance of the N(0, I)
    prior), ``seed_k`` codes (through the prior), encoded references."""
    if not style_dim:
        return {}
    bank = {"default": list(prior.mean) if prior else [0.0] * style_dim}
    for k in range(seeds):
        bank[f"seed_{k}"] = [float(v) for v in prior_style(k, style_dim, prior)]
    for name, code in encoded.items():
        bank[name] = [float(v) for v in code]
    return bank


def export_module(generator: nn.Module, spec: ModelSpec, out_dir: str | Path,
                  options: ExportOptions | None = None, *, style_encoder: nn.Module | None = None,
                  checkpoint_dir: str | Path | None = None) -> tuple[ModelManifest, ParityReport]:
    """Export ``generator`` into the artifact directory ``out_dir`` (atomically).

    Writes model.onnx (+ style_encoder.onnx), model.json and, from ``checkpoint_dir``,
    generator.safetensors + config.json (+ MODEL_CARD.md). Raises ArtifactError (and
    leaves nothing behind) when the ONNX graph disagrees with PyTorch beyond the tolerance.
    """
    opts = options or ExportOptions()
    for name in opts.references:
        check_style_name(name)
    unknown = [a for a in spec.aux if a not in AUX_SOURCES]
    if unknown:
        raise ValueError(f"unknown aux inputs {unknown}; expected names from {sorted(AUX_SOURCES)}")
    aux_c = sum(AUX_SOURCES[a].channels for a in spec.aux)
    generator = generator.eval().float().cpu()
    with atomic_directory(out_dir, overwrite=opts.overwrite) as tmp:
        fp32_path = tmp / ("model_fp32.onnx" if opts.fp16 else ONNX_FILE)
        m = spec.size_multiple
        export_onnx(generator, fp32_path, style_dim=spec.style_dim, aux_channels=aux_c,
                    sample_hw=(4 * m, 4 * m), opset=opts.opset)
        shapes = parity_shapes(spec)
        report = check_parity(generator, fp32_path, style_dim=spec.style_dim,
                              aux_channels=aux_c, shapes=shapes, tolerance=opts.tolerance)
        log.info("parity FP32 ONNX Runtime vs PyTorch: max |diff| = %.3g (tolerance %g)",
                 report.max_abs_diff, opts.tolerance)
        if not report.ok:
            raise ArtifactError(f"ONNX parity check failed: max |diff| {report.max_abs_diff:.3g} "
                                f"> {opts.tolerance} ({report.cases})")
        parity = {"fp32": report.to_json()}
        if opts.fp16:
            convert_fp16(fp32_path, tmp / ONNX_FILE)
            fp32_path.unlink()
            r16 = check_parity(generator, tmp / ONNX_FILE, style_dim=spec.style_dim,
                               aux_channels=aux_c, shapes=shapes, tolerance=FP16_TOLERANCE)
            log.info("parity FP16-inside ONNX vs PyTorch FP32: max |diff| = %.3g", r16.max_abs_diff)
            if not r16.ok:
                raise ArtifactError(f"FP16 graph parity failed: max |diff| "
                                    f"{r16.max_abs_diff:.3g} > {FP16_TOLERANCE}")
            parity["fp16"] = r16.to_json()
            report = r16
        encoder_file = None
        encoded: dict[str, np.ndarray] = {}
        if style_encoder is not None and spec.style_dim:
            encoder_file = STYLE_ENCODER_FILE
            _export_style_encoder(style_encoder, tmp / encoder_file, opts.opset)
            encoded = _encode_references(style_encoder, opts.references, spec.working_resolution)
        elif opts.references or opts.prior_frames:
            raise ValueError("reference styles and a style prior need a style encoder, and this "
                             "checkpoint has none (style_encoder.safetensors)")
        prior = None
        if opts.prior_frames:
            codes = _encode_references(style_encoder, {str(i): f for i, f in
                                                       enumerate(opts.prior_frames)},
                                       spec.working_resolution)
            prior = fit_style_prior(np.stack(list(codes.values())), opts.prior_source)
            log.info("style prior fitted to %d frames (%s)", prior.frames, opts.prior_source)
        files = [ONNX_FILE] + ([encoder_file] if encoder_file else [])
        if checkpoint_dir is not None:
            for name in COPIED_FILES:
                src = Path(checkpoint_dir) / name
                if src.is_file():
                    shutil.copy2(src, tmp / name)
                    if name in HASHED_FILES:
                        files.append(name)
        in_place = checkpoint_dir is not None and \
            Path(out_dir).resolve() == Path(checkpoint_dir).resolve()
        _carry_over(Path(out_dir), tmp, in_place)
        manifest = ModelManifest(
            preset=spec.preset, style_dim=spec.style_dim,
            working_resolution=tuple(spec.working_resolution), size_multiple=m,
            aux=[AUX_SOURCES[a] for a in spec.aux],
            styles=style_bank(spec.style_dim, opts.seeds, encoded, prior),
            normalisation=NET_RANGE, onnx_sha256=sha256_file(tmp / ONNX_FILE), opset=opts.opset,
            fp16_internal=opts.fp16, style_encoder_file=encoder_file, parity=parity,
            style_prior=prior)
        manifest.content_hash = content_hash(tmp, files)
        manifest.validate()
        write_manifest(tmp, manifest)
        load_manifest(tmp)  # the loader's checks: never publish an artifact it would reject
    return manifest, report


class _EncoderGraph(nn.Module):
    def __init__(self, enc: nn.Module) -> None:
        super().__init__()
        self.enc = enc

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.enc(image)


def _export_style_encoder(encoder: nn.Module, path: Path, opset: int) -> None:
    """Reference image (B,3,H,W) -> style (B,S) graph with dynamic B/H/W."""
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad(), quiet_export():
        torch.onnx.export(_EncoderGraph(encoder.eval().float().cpu()), (x,), str(path),
                          input_names=["image"], output_names=["style"],
                          dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                        "style": {0: "batch"}},
                          opset_version=opset, dynamo=False)


def _encode_references(encoder: nn.Module, refs: dict[str, np.ndarray],
                       size: tuple[int, int]) -> dict[str, np.ndarray]:
    import cv2

    out = {}
    for name, rgb in refs.items():
        check_frames(rgb, f"reference style {name!r}")
        x = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        t = torch.from_numpy(to_net(x, NET_RANGE))[None]
        with torch.no_grad():
            out[name] = encoder.eval()(t)[0].numpy()
    return out


def export_artifact(checkpoint_dir: str | Path, out_dir: str | Path,
                    options: ExportOptions | None = None,
                    working_resolution: tuple[int, int] | None = None
                    ) -> tuple[ModelManifest, ParityReport]:
    """``sim2real-gan export``: load a generator checkpoint directory and export it.

    The working resolution comes from ``working_resolution``, else the checkpoint's
    ``meta.resolution`` / ``meta.crop`` (training size), else 256x256.
    """
    from sim2real_gan.models import load_generator, load_style_encoder, read_config

    checkpoint_dir = Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        raise FileNotFoundError(f"checkpoint directory not found: {checkpoint_dir}")
    from safetensors import SafetensorError

    try:
        generator, cfg = load_generator(checkpoint_dir)
        encoder = load_style_encoder(checkpoint_dir)
    except SafetensorError as exc:  # a truncated or garbled weights file: bad input, one line
        raise ValueError(f"generator checkpoint {checkpoint_dir}: a .safetensors file is "
                         f"corrupt or truncated ({exc})") from None
    _, meta = read_config(checkpoint_dir)
    res = working_resolution or _meta_resolution(meta) or (256, 256)
    m = cfg.size_multiple
    if res[0] % m or res[1] % m:
        raise ValueError(f"working resolution {res[0]}x{res[1]} is not a multiple of the "
                         f"model's size_multiple {m}")
    spec = ModelSpec(preset=cfg.preset, style_dim=cfg.style_dim, aux=list(cfg.aux_channels),
                     size_multiple=m, working_resolution=res)
    return export_module(generator, spec, out_dir, options, style_encoder=encoder,
                         checkpoint_dir=checkpoint_dir)


def _meta_resolution(meta: dict) -> tuple[int, int] | None:
    for key in ("resolution", "working_resolution", "crop", "image_size"):
        v = meta.get(key)
        if isinstance(v, int):
            return (v, v)
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return (int(v[0]), int(v[1]))
    return None
