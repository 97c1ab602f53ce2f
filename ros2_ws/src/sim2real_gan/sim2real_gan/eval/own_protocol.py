"""The own-data protocol: a user's simulator bag against the user's footage, every method.

Inputs (:mod:`.own_data`): clips of the bag framed like the footage's content area, and
footage frames with their content mask. Per method ("no translation", the raw sim frames,
is always the first row, the reference every number is read against):

- temporal: warping error with the bag's ground-truth flow or with flow estimated on the
  sim input (``data.sim.flow`` says which), tOF against the sim input;
- structure: SSIM on luminance against the sim input;
- realism: KID/FID against the footage in the feature space of a network trained on the
  footage (:func:`.features.train_footage_feature_net`), both sides masked with the
  footage's content mask (surround and burned-in text black on both), Inception too when a
  local file is given; domain classifier accuracy against the footage;
- label preservation (when the bag has labels): a segmenter trained on the raw sim frames
  and labels of the first half of the clips, applied to the second half translated, mIoU
  against the sim labels; the "no translation" row is the same segmenter on raw frames.

All networks are seeded: the same inputs give the same numbers on one machine.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .data import Sequences
from .features import ROTATIONS, FeatureNetConfig, load_or_train_feature_net
from .methods import Method
from .own_data import ClipPlan, FootageSet, SimClips, load_footage, load_sim_clips
from .own_labels import LabelSplit, split_labels
from .realism import (
    DomainClassifierConfig,
    RealismScorer,
    domain_classifier_accuracy,
    load_inception,
)
from .segmentation import SegmenterConfig, predict, score_segmentation
from .structure import ssim
from .temporal import tof, warping_error

__all__ = ["OwnConfig", "OwnResult", "run_own_protocol"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OwnConfig:
    """Inputs, sizes and budgets of the own-data protocol (CLI profiles: cli/evaluate.py)."""

    sim_bag: str
    footage: str
    width: int = 256                  # evaluation width; height from the footage's content box
    plan: ClipPlan = field(default_factory=ClipPlan)
    footage_frames: int = 200         # at most this many footage frames, evenly spaced
    mask: str = "auto"                # footage content mask: auto | content | off | a file
    black_level: float = 20.0
    segmenter: SegmenterConfig = field(default_factory=lambda: SegmenterConfig(crop=64))
    feature_net: FeatureNetConfig = field(
        default_factory=lambda: FeatureNetConfig(num_classes=ROTATIONS))
    domain: DomainClassifierConfig = field(default_factory=DomainClassifierConfig)
    kid_subsets: int = 50
    kid_subset_size: int = 100
    inception: str = ""
    samples: int = 4                  # frames per row of frames.png

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class OwnResult:
    """Metrics (JSON-able) and frames for the report's figures (all framed to (h,w))."""

    config: dict
    machine: dict
    data: dict
    reference: dict
    methods: dict[str, dict]
    samples: dict[str, np.ndarray]          # method name -> (K,h,w,3) ("no translation" = input)
    sample_labels: np.ndarray | None        # (K,h,w) ids
    footage: np.ndarray                     # (K,h,w,3) footage samples
    mask: np.ndarray                        # (h,w) bool content mask
    profiles: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (P,h,w,3)
    class_ids: list[int] = field(default_factory=list)

    def metrics(self) -> dict:
        return {"kind": "own-data", "config": self.config, "machine": self.machine,
                "data": self.data, "reference": self.reference, "methods": self.methods,
                "class_ids": self.class_ids}


def _masked(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return frames * mask[..., None].astype(np.uint8)


def _temporal(out: np.ndarray, clips: SimClips) -> tuple[float, float]:
    """(warping error, tOF) averaged over clips; clips without a valid pixel are skipped."""
    errs = [warping_error(out[i], clips.flow[i], clips.valid[i]).mean
            for i in range(len(out)) if clips.valid[i].any()]
    t = float(np.mean([tof(out[i], clips.rgb[i]).mean for i in range(len(out))]))
    return (float(np.mean(errs)) if errs else float("nan")), t


@dataclass
class _Context:
    cfg: OwnConfig
    clips: SimClips
    seqs: Sequences
    footage_masked: np.ndarray
    mask: np.ndarray
    scorers: dict[str, RealismScorer]
    labels: LabelSplit | None


def _score(m: Method, ctx: _Context, progress: bool) -> tuple[dict, np.ndarray]:
    """All metrics of one method -> (metrics, translated clips (N,T,h,w,3))."""
    out = m.translate(ctx.seqs, progress)
    flat = out.reshape(-1, *out.shape[2:])
    warp, t = _temporal(out, ctx.clips)
    r: dict = {"method": m.describe(), "warping_error": warp, "tof": t,
               "ssim": ssim(flat, ctx.clips.rgb.reshape(flat.shape))}
    masked = _masked(flat, ctx.mask)
    for prefix, scorer in ctx.scorers.items():
        sc = scorer.score(masked)
        r.update({f"{prefix}kid": sc.kid, f"{prefix}kid_std": sc.kid_std, f"{prefix}fid": sc.fid})
    r["domain_accuracy"] = domain_classifier_accuracy(ctx.footage_masked, masked,
                                                      ctx.cfg.domain, progress)
    if ctx.labels is not None:
        lab = ctx.labels
        sc = score_segmentation(predict(lab.model, lab.test_frames(out)), lab.test_ids,
                                len(lab.class_ids))
        r["label_preservation"] = {"miou": sc.miou, "per_class": sc.per_class,
                                   "pixel_accuracy": sc.pixel_accuracy}
    r["ms_per_frame"] = 1000.0 * m.seconds / flat.shape[0]
    return r, out


def _prepare(cfg: OwnConfig, cache_dir: Path | None, progress: bool
             ) -> tuple[FootageSet, SimClips, _Context, dict]:
    """Load both sides, train the footage feature net and the sim segmenter."""
    footage = load_footage(cfg.footage, cfg.footage_frames, cfg.width, cfg.mask, cfg.black_level)
    clips = load_sim_clips(cfg.sim_bag, cfg.plan, footage.frames.shape[1:3])
    fm = footage.masked()
    featnet, feat_path = load_or_train_feature_net(fm, None, cfg.feature_net, cache_dir,
                                                   progress, mask=footage.mask)
    args = (cfg.kid_subsets, cfg.kid_subset_size)
    scorers = {"": RealismScorer(featnet, fm, *args)}
    if cfg.inception:
        scorers["inception_"] = RealismScorer(load_inception(cfg.inception), fm, *args)
    half = len(fm) // 2
    halves = RealismScorer(featnet, fm[:half], *args).score(fm[half:])
    labels, label_note = split_labels(clips, cfg.segmenter, progress)
    if labels is None:
        log.warning("label preservation %s", label_note)
    seqs = Sequences(rgb={"sim": clips.rgb}, depth=clips.depth, uv=clips.uv,
                     where=f"bag {cfg.sim_bag}")
    reference = {"kid_footage_halves": halves.kid, "fid_footage_halves": halves.fid,
                 "feature_net": feat_path.name, "flow": clips.flow_kind}
    reference["label_preservation"] = labels.describe() if labels else {"note": label_note}
    return footage, clips, _Context(cfg, clips, seqs, fm, footage.mask, scorers, labels), \
        reference


def run_own_protocol(methods: list[Method], cfg: OwnConfig, cache_dir: Path | None = None,
                     progress: bool = True) -> OwnResult:
    """Load the data, train the reference networks, score every method (module docstring)."""
    from .protocol import machine_info

    names = [m.name for m in methods]
    if not methods or len(set(names)) != len(names):
        raise ValueError(f"method names must be unique and at least one, got {names}")
    footage, clips, ctx, reference = _prepare(cfg, cache_dir, progress)
    n, t = clips.rgb.shape[:2]
    picks = [(i, j) for i in range(n) for j in (0, t - 1)][: cfg.samples]
    take = tuple(np.array(p) for p in zip(*picks, strict=True))
    samples: dict[str, np.ndarray] = {}
    extra = {k: clips.profile[k][None] for k in ("depth", "uv") if k in clips.profile}
    prof = Sequences(rgb={"sim": clips.profile["image"][None]}, where=ctx.seqs.where, **extra)
    profiles: dict[str, np.ndarray] = {}
    results: dict[str, dict] = {}
    for m in tqdm(methods, desc="methods", disable=not progress):
        r, out = _score(m, ctx, progress)
        results[m.name] = r
        samples[m.name] = out[take]
        profiles[m.name] = m.translate(prof)[0]
        log.info("%s: warp %.5f (%s)  KID %.4f  domain acc %.3f%s", m.name, r["warping_error"],
                 clips.flow_kind, r["kid"], r["domain_accuracy"],
                 f"  label mIoU {r['label_preservation']['miou']:.3f}"
                 if "label_preservation" in r else "")
    fpick = np.linspace(0, len(footage.frames) - 1, cfg.samples).round().astype(int)
    data = {"sim": clips.info, "footage": footage.info,
            "eval_size": list(footage.frames.shape[1:3])}
    lab = ctx.labels
    return OwnResult(config=cfg.to_dict(), machine=machine_info(), data=data,
                     reference=reference, methods=results, samples=samples,
                     sample_labels=None if clips.labels is None else clips.labels[take],
                     footage=footage.frames[fpick], mask=footage.mask, profiles=profiles,
                     class_ids=[] if lab is None else lab.class_ids)
