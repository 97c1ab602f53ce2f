"""The evaluation protocol on the built-in simulator: every metric for every method.

Data (see :mod:`sim2real_gan.eval.data`): held-out test scenes rendered in both
appearances; labelled real-style training scenes (real-domain segmenter and the
KID/FID feature network); downstream sim scenes (each method translates them to
train its own segmenter). All networks are seeded; the same config gives the same
numbers on one machine.
"""

from __future__ import annotations

import logging
import math
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from sim2real_gan.sim.config import CLASS_NAMES

from . import data as D
from .artifacts import MAX_CHECKER_RATIO, MAX_STREAK_EXCESS, artifact_scores
from .features import FeatureNetConfig, load_or_train_feature_net
from .methods import Method
from .realism import (
    DomainClassifierConfig,
    RealismScorer,
    domain_classifier_accuracy,
    load_inception,
)
from .segmentation import SegmenterConfig, predict, score_segmentation, train_segmenter
from .structure import ssim
from .temporal import tof, warping_error

__all__ = ["ProtocolConfig", "ProtocolResult", "run_protocol", "check_targets", "CLASS_NAMES",
           "load_footage"]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ProtocolConfig:
    """Sizes and budgets of the protocol (defaults: the documented small CPU protocol)."""

    width: int = 64
    height: int = 64
    frames: int = 8                  # consecutive frames per sequence
    test_sequences: int = 8
    real_train_sequences: int = 16
    downstream_sequences: int = 16
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    feature_net: FeatureNetConfig = field(default_factory=FeatureNetConfig)
    domain: DomainClassifierConfig = field(default_factory=DomainClassifierConfig)
    kid_subsets: int = 50
    kid_subset_size: int = 100
    inception: str = ""              # local Inception TorchScript file; "" = not computed
    footage: str = ""                # folder of the user's real frames: extra footage_kid/fid
    footage_max: int = 500           # at most this many footage frames (evenly spaced)
    samples: int = 2                 # test sequences kept for the report's figures
    profile_frames: int = 32         # test scene 0 rendered this long for the temporal profile

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            v = getattr(self, name)
            if v < 16 or v % 4:
                raise ValueError(f"ProtocolConfig.{name}: expected a multiple of 4 >= 16, got {v}")
        if self.test_sequences < 2:
            raise ValueError("ProtocolConfig.test_sequences: need >= 2 (the domain classifier "
                             f"trains on one half and tests on the other), got {self.test_sequences}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = {"test": [D.TEST_SEEDS, self.test_sequences],
                      "real_train": [D.REAL_TRAIN_SEEDS, self.real_train_sequences],
                      "downstream": [D.DOWNSTREAM_SEEDS, self.downstream_sequences]}
        return d


@dataclass
class ProtocolResult:
    """Metrics (JSON-able) and sample frames for the report's figures."""

    config: dict
    machine: dict
    reference: dict
    methods: dict[str, dict]
    samples: dict[str, np.ndarray]   # name -> (S,T,H,W,3) uint8, incl. "input (sim)", "real"
    sample_labels: np.ndarray        # (S,T,H,W)
    profiles: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (P,H,W,3) scene 0

    def metrics(self) -> dict:
        return {"config": self.config, "machine": self.machine, "reference": self.reference,
                "methods": self.methods, "class_names": list(CLASS_NAMES)}


def machine_info() -> dict:
    """Where the numbers were measured."""
    import os

    return {"platform": platform.platform(), "processor": platform.machine(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}


def _seq_mean(fn, outs: np.ndarray, *args: np.ndarray) -> float:
    return float(np.mean([fn(outs[i], *(a[i] for a in args)).mean for i in range(len(outs))]))


def _iou_dict(score) -> dict:
    return {"miou": score.miou, "per_class": score.per_class, "pixel_accuracy": score.pixel_accuracy}


def load_footage(folder: str, count: int, width: int, height: int) -> np.ndarray:
    """Up to ``count`` evenly spaced frames of an image folder, resized -> (N,H,W,3) uint8."""
    import cv2

    from sim2real_gan.io.media import read_image_folder

    frames = [rgb for _, rgb in read_image_folder(folder)]
    if len(frames) < 2:
        raise ValueError(f"footage folder {folder}: need at least 2 frames, got {len(frames)}")
    pick = np.unique(np.linspace(0, len(frames) - 1, min(count, len(frames))).astype(int))
    return np.stack([cv2.resize(frames[i], (width, height), interpolation=cv2.INTER_AREA)
                     for i in pick])


def _simulate(cfg: ProtocolConfig, progress: bool) -> tuple[D.Sequences, ...]:
    w, h, t = cfg.width, cfg.height, cfg.frames
    long = D.simulate_sequences([D.TEST_SEEDS], max(cfg.profile_frames, t), w, h, ("sim", "real"),
                                progress, "simulate profile")
    test = D.simulate_sequences(D.seeds(D.TEST_SEEDS, cfg.test_sequences), t, w, h,
                                ("sim", "real"), progress, "simulate test")
    real = D.simulate_sequences(D.seeds(D.REAL_TRAIN_SEEDS, cfg.real_train_sequences), t, w, h,
                                ("real",), progress, "simulate real-train")
    down = D.simulate_sequences(D.seeds(D.DOWNSTREAM_SEEDS, cfg.downstream_sequences), t, w, h,
                                ("sim",), progress, "simulate downstream")
    return test, real, down, long


@dataclass
class _Context:
    """Everything shared by the methods: the splits and the reference networks."""

    cfg: ProtocolConfig
    test: D.Sequences
    down: D.Sequences
    long: D.Sequences
    seg_real: torch.nn.Module
    scorers: dict[str, RealismScorer]


def _scorers(cfg: ProtocolConfig, featnet: torch.nn.Module, test_real: np.ndarray
             ) -> dict[str, RealismScorer]:
    """KID/FID scorers by metric prefix: in-project features (+ Inception, + user footage)."""
    args = (cfg.kid_subsets, cfg.kid_subset_size)
    scorers = {"": RealismScorer(featnet, test_real, *args)}
    inception = load_inception(cfg.inception) if cfg.inception else None
    if inception is not None:
        scorers["inception_"] = RealismScorer(inception, test_real, *args)
    if cfg.footage:
        footage = load_footage(cfg.footage, cfg.footage_max, cfg.width, cfg.height)
        scorers["footage_"] = RealismScorer(featnet, footage, *args)
        if inception is not None:
            scorers["footage_inception_"] = RealismScorer(inception, footage, *args)
    return scorers


def content_masks(seqs: D.Sequences) -> np.ndarray | None:
    """(N*T,H,W) bool: each frame's content area (the real rendering's field of view)."""
    if seqs.content_mask is None:
        return None
    n, t = seqs.shape[:2]
    return np.repeat(seqs.content_mask, t, axis=0).reshape(n * t, *seqs.content_mask.shape[1:])


def in_view(frames: np.ndarray, masks: np.ndarray | None) -> np.ndarray:
    """(N,H,W,3) frames black outside the content area ``masks`` (N,H,W), as the real
    rendering of the same scenes: realism is scored on what the scope shows."""
    return frames if masks is None else frames * masks[..., None].astype(frames.dtype)


def _score_method(m: Method, ctx: _Context, progress: bool) -> tuple[dict, np.ndarray]:
    """All metrics of one method -> (metrics, translated test sequences (N,T,H,W,3))."""
    cfg, test, down = ctx.cfg, ctx.test, ctx.down
    test_real, test_labels = test.frames("real"), test.flat_labels()
    test_real_labels = test.flat_labels("real")
    out = m.translate(test, progress)
    seconds = m.seconds
    flat = out.reshape(-1, *out.shape[2:])
    masks = content_masks(test)
    seen = in_view(flat, masks)
    r: dict = {"method": m.describe(),
               "warping_error": _seq_mean(warping_error, out, test.flow, test.flow_valid),
               "tof": _seq_mean(tof, out, test.rgb["sim"]),
               "ssim": ssim(flat, test.frames("sim")),
               "artifacts": artifact_scores(flat, test_real, masks)}
    for prefix, scorer in ctx.scorers.items():
        sc = scorer.score(seen)
        r.update({f"{prefix}kid": sc.kid, f"{prefix}kid_std": sc.kid_std, f"{prefix}fid": sc.fid})
    r["domain_accuracy"] = domain_classifier_accuracy(test_real, seen, cfg.domain, progress)
    r["label_preservation"] = _iou_dict(score_segmentation(predict(ctx.seg_real, flat),
                                                           test_labels))
    out_down = m.translate(down, progress)
    seg = train_segmenter(out_down.reshape(-1, *out_down.shape[2:]), down.flat_labels(),
                          cfg.segmenter, progress, f"segmenter {m.name}")
    r["downstream"] = _iou_dict(score_segmentation(predict(seg, test_real), test_real_labels))
    frames = flat.shape[0] + out_down.shape[0] * out_down.shape[1]
    r["ms_per_frame"] = 1000.0 * (seconds + m.seconds) / frames
    return r, out


def run_protocol(methods: list[Method], cfg: ProtocolConfig, cache_dir: Path | None = None,
                 progress: bool = True) -> ProtocolResult:
    """Simulate the splits, train the reference networks, score every method."""
    if not methods:
        raise ValueError("run_protocol: no methods to evaluate")
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    test, real, down, long = _simulate(cfg, progress)
    real_frames, real_labels = real.frames("real"), real.flat_labels("real")
    test_real, test_real_labels = test.frames("real"), test.flat_labels("real")
    featnet, feat_path = load_or_train_feature_net(real_frames, real_labels, cfg.feature_net,
                                                   cache_dir, progress)
    seg_real = train_segmenter(real_frames, real_labels, cfg.segmenter, progress, "segmenter real")
    ctx = _Context(cfg, test, down, long, seg_real, _scorers(cfg, featnet, test_real))
    other_real = ctx.scorers[""].score(real_frames)
    reference = {
        "segmenter_on_real": _iou_dict(score_segmentation(predict(seg_real, test_real),
                                                          test_real_labels)),
        "warping_error_sim_input": _seq_mean(warping_error, test.rgb["sim"], test.flow,
                                             test.flow_valid),
        "warping_error_real_rendering": _seq_mean(warping_error, test.rgb["real"], test.flow,
                                                  test.flow_valid_for("real")),
        "kid_real_other_scenes": other_real.kid, "fid_real_other_scenes": other_real.fid,
        "feature_net": feat_path.name,
    }
    s = slice(0, cfg.samples)
    samples = {"input (sim)": test.rgb["sim"][s], "real (same scenes)": test.rgb["real"][s]}
    profiles = {"input (sim)": long.rgb["sim"][0], "real (same scenes)": long.rgb["real"][0]}
    results: dict[str, dict] = {}
    for m in tqdm(methods, desc="methods", disable=not progress):
        r, out = _score_method(m, ctx, progress)
        results[m.name] = r
        samples[m.name] = out[s]
        profiles[m.name] = m.translate(long)[0]
        log.info("%s: warp %.4f  KID %.4f  label mIoU %.3f  downstream mIoU %.3f", m.name,
                 r["warping_error"], r["kid"], r["label_preservation"]["miou"],
                 r["downstream"]["miou"])
    return ProtocolResult(config=cfg.to_dict(), machine=machine_info(), reference=reference,
                          methods=results, samples=samples, sample_labels=test.labels[s],
                          profiles=profiles)


def check_targets(metrics: dict, ours: str, baseline: str | None,
                  raw: str | None = "no translation") -> list[dict]:
    """The issue's targets, each {name, value, threshold, met} (met None when not computable)."""
    meth = metrics["methods"]
    if ours not in meth:
        raise ValueError(f"'ours' method {ours!r} not among evaluated {sorted(meth)}")
    o = meth[ours]
    out = []

    def add(name: str, value: float | None, threshold: float | None, met: bool | None,
            rule: str) -> None:
        out.append({"target": name, "rule": rule, "value": value, "threshold": threshold,
                    "met": met})

    b = meth.get(baseline) if baseline else None
    if b is not None:
        thr = 0.5 * b["warping_error"]
        add("warping error", o["warping_error"], thr, o["warping_error"] <= thr,
            f"<= 0.5 x {baseline}")
        add("KID", o["kid"], b["kid"], o["kid"] <= b["kid"], f"<= {baseline}")
    ref = metrics["reference"]["segmenter_on_real"]["miou"]
    lp = o["label_preservation"]["miou"]
    add("label-preservation mIoU", lp, 0.9 * ref, lp >= 0.9 * ref, ">= 0.9 x segmenter on real")
    art = o.get("artifacts")
    for name, key, thr in (() if art is None else (
            ("no streaks", "streak_excess", MAX_STREAK_EXCESS),
            ("no checkerboard", "checker_ratio", MAX_CHECKER_RATIO))):
        v = art.get(key)
        known = v is not None and math.isfinite(v)
        add(name, v if known else None, thr, v <= thr if known else None,
            f"{key} <= {thr} (against the real rendering)")
    r = meth.get(raw) if raw else None
    if r is not None:
        thr = r["downstream"]["miou"] + 0.05
        add("downstream mIoU", o["downstream"]["miou"], thr, o["downstream"]["miou"] >= thr,
            f">= {raw} + 5 points")
    return out
