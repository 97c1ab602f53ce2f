"""Stereo evaluation: are both eyes translated alike, and is depth perception kept?

On held-out stereo scenes of the built-in simulator (``data.TEST_SEEDS``, both eyes, ground-
truth disparity) every row is scored with:

- ``lr_warping_error``: the right view warped into the left with the ground-truth disparity
  and occlusion mask (:func:`~sim2real_gan.eval.stereo_match.lr_warping_error`), mean over
  frames and scenes;
- ``sgbm_epe`` / ``sgbm_bad3`` / ``sgbm_density``: OpenCV SGBM disparity on the pair
  (left-right checked) against the ground truth.

Rows: the raw sim pair, the ``real`` rendering of the same scenes (reference), and for every
model its *stereo* translation (one style per pair: what ``translate-bag --stereo`` and the
node's stereo mode do) and its *per-view* translation (each eye translated on its own with
its own random style, as a per-view system does; a model without a style input has only the
per-view row, its two modes being the same); a styled model also gets the *right from left*
row: the stereo translation with the right eye rebuilt from the left with both eyes' depth,
what serving does by default when the eyes carry depth. Targets (issue #14), for the
serving row (right from left when present): ``lr_warping_error`` of ours <= 1.5 x the sim
pair's; ``sgbm_epe`` of ours <= 1.2 x the sim pair's and below every per-view row.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from sim2real_gan.pipeline.stereo_reproject import PairGeometry, depth_metres, reproject_right

from . import data as D
from .methods import ArtifactMethod, CheckpointMethod, Method
from .stereo_match import SgbmConfig, disparity_error, lr_warping_error, sgbm_disparity

__all__ = ["StereoEvalConfig", "StereoData", "StereoResult", "simulate_stereo",
           "run_stereo_eval", "check_stereo_targets", "check_all_targets", "SIM_ROW",
           "REAL_ROW", "REPROJECTED", "right_from_left"]

log = logging.getLogger(__name__)

SIM_ROW = "sim pair (no translation)"
REAL_ROW = "real rendering (reference)"
PAIR, PER_VIEW = "stereo pair", "per view"
"""Row modes: one style per pair / each eye on its own (styled: own random style)."""
REPROJECTED = "stereo pair, right from left"
"""Row mode: one style per pair, then the right eye's pixels the left eye also sees taken from
the left translation with the simulator's depth (what serving does when both eyes carry depth
and camera_info: :mod:`sim2real_gan.pipeline.stereo_reproject`)."""


@dataclass(frozen=True)
class StereoEvalConfig:
    """Sizes of the stereo evaluation (default: 256x256, 8 scenes x 4 frames, 5 mm)."""

    width: int = 256
    height: int = 256
    frames: int = 4
    sequences: int = 8
    baseline_m: float = 0.005
    sgbm: SgbmConfig = field(default_factory=SgbmConfig)
    samples: int = 1  # scenes kept for the report's figure
    reproject_tolerance: float = 0.02  # relative depth agreement (pipeline.stereo_reproject)

    def __post_init__(self) -> None:
        if self.width < 32 or self.height < 32 or self.width % 8 or self.height % 8:
            raise ValueError(f"StereoEvalConfig: width and height must be multiples of 8, "
                             f">= 32, got {self.width}x{self.height}")
        if self.frames < 1 or self.sequences < 1:
            raise ValueError(f"StereoEvalConfig: frames and sequences must be >= 1, got "
                             f"{self.frames} and {self.sequences}")


@dataclass
class StereoData:
    """Both eyes of N scenes x T frames: ``left`` / ``right`` per-eye :class:`D.Sequences`
    (sim and real renderings, labels, uv, depth); ``disparity`` / ``valid`` (N,T,H,W) per
    appearance (``real``: inside both eyes' field stop only)."""

    left: D.Sequences
    right: D.Sequences
    disparity: dict[str, np.ndarray]
    valid: dict[str, np.ndarray]
    geometry: PairGeometry | None = None  # the eyes' fx * B and cx difference


def simulate_stereo(cfg: StereoEvalConfig, progress: bool = False) -> StereoData:
    """Render the held-out stereo scenes (seeds ``TEST_SEEDS``...) in both appearances."""
    from sim2real_gan.sim.config import SimConfig, StereoConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    sim_cfg = SimConfig(width=cfg.width, height=cfg.height, appearances=("sim", "real"),
                        stereo=StereoConfig(baseline_m=cfg.baseline_m))
    eyes: dict[str, dict[str, list]] = {e: {k: [] for k in ("sim", "real", "labels", "uv",
                                                               "depth", "flow", "fv", "mask")}
                                        for e in ("left", "right")}
    disp = {a: [] for a in ("sim", "real")}
    valid = {a: [] for a in ("sim", "real")}
    seeds = D.seeds(D.TEST_SEEDS, cfg.sequences)
    for seed in tqdm(seeds, desc="simulate stereo", disable=not progress, leave=False):
        pairs = list(EndoscopeSimulator(sim_cfg, seed).stereo_frames(cfg.frames))
        for e in ("left", "right"):
            frames = [getattr(p, e) for p in pairs]
            acc = eyes[e]
            for a in ("sim", "real"):
                acc[a].append(np.stack([f.image(a) for f in frames]))
            acc["labels"].append(np.stack([f.labels for f in frames]))
            acc["uv"].append(np.stack([f.uv for f in frames]))
            acc["depth"].append(np.stack([f.depth for f in frames]))
            acc["flow"].append(np.stack([f.flow for f in frames]))
            acc["fv"].append(np.stack([f.flow_valid for f in frames]))
            acc["mask"].append(frames[0].content_mask)
        for a in ("sim", "real"):
            dv = [p.disparity_for(a) for p in pairs]
            disp[a].append(np.stack([d for d, _ in dv]))
            valid[a].append(np.stack([v for _, v in dv]))

    def seqs(acc: dict[str, list]) -> D.Sequences:
        return D.Sequences(rgb={a: np.stack(acc[a]) for a in ("sim", "real")},
                           labels=np.stack(acc["labels"]), uv=np.stack(acc["uv"]),
                           depth=np.stack(acc["depth"]), flow=np.stack(acc["flow"]),
                           flow_valid=np.stack(acc["fv"]), seeds=list(seeds),
                           content_mask=np.stack(acc["mask"]))

    from sim2real_gan.sim.stereo import eye_intrinsics

    k = eye_intrinsics(sim_cfg)
    geometry = PairGeometry(float(k["left"][0, 0] * cfg.baseline_m),
                            float(k["left"][0, 2] - k["right"][0, 2]))
    return StereoData(seqs(eyes["left"]), seqs(eyes["right"]),
                      {a: np.stack(v) for a, v in disp.items()},
                      {a: np.stack(v) for a, v in valid.items()}, geometry)


def right_from_left(left: np.ndarray, right: np.ndarray, data: StereoData,
                    tolerance: float = 0.02) -> np.ndarray:
    """The right translations (N,T,H,W,3) rebuilt from the left ones with the simulator's
    depth, as serving does (:func:`~sim2real_gan.pipeline.stereo_reproject.reproject_right`)."""
    out = right.copy()
    for i in range(left.shape[0]):
        for t in range(left.shape[1]):
            out[i, t], _ = reproject_right(
                left[i, t], right[i, t], depth_metres(data.left.depth[i, t]),
                depth_metres(data.right.depth[i, t]), data.geometry, tolerance)
    return out


def _joined(a: D.Sequences, b: D.Sequences, axis: int) -> D.Sequences:
    """Two per-eye sequence sets joined along the scene (0) or frame (1) axis."""
    def cat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.concatenate([x, y], axis=axis)

    return D.Sequences(rgb={k: cat(a.rgb[k], b.rgb[k]) for k in a.rgb},
                       labels=cat(a.labels, b.labels), uv=cat(a.uv, b.uv),
                       depth=cat(a.depth, b.depth), flow=cat(a.flow, b.flow),
                       flow_valid=cat(a.flow_valid, b.flow_valid),
                       seeds=a.seeds + b.seeds if axis == 0 else a.seeds)


def translate_pairs(method: Method, data: StereoData, mode: str
                    ) -> tuple[np.ndarray, np.ndarray, float]:
    """(left, right) translations (N,T,H,W,3) and seconds per eye frame.

    ``PAIR``: scene i's left and right frames form one sequence, so they share its style
    (seed i) as in serving; ``PER_VIEW``: the eyes are separate sequences (left of scene i
    is sequence i, its right eye sequence N + i), so each eye gets its own style.
    """
    n, t = data.left.shape[:2]
    if mode == REPROJECTED:
        left, right, per_frame = translate_pairs(method, data, PAIR)
        return left, right_from_left(left, right, data), per_frame
    if mode == PAIR:
        out = method.translate(_joined(data.left, data.right, axis=1))
        left, right = out[:, :t], out[:, t:]
    elif mode == PER_VIEW:
        out = method.translate(_joined(data.left, data.right, axis=0))
        left, right = out[:n], out[n:]
    else:
        raise ValueError(f"mode must be {PAIR!r} or {PER_VIEW!r}, got {mode!r}")
    return left, right, method.seconds / (2 * n * t)


def interior(hw: tuple[int, int], margin: float = 0.125) -> np.ndarray:
    """bool (H,W): the frame without a ``margin`` share at each edge. Image-fixed artefacts
    (a generator's border effects) sit at the same pixels in both eyes and pull SGBM towards
    zero disparity there; the interior EPE shows the error without them."""
    h, w = hw
    m = np.zeros((h, w), bool)
    m[int(h * margin):h - int(h * margin), int(w * margin):w - int(w * margin)] = True
    return m


def score_pair(left: np.ndarray, right: np.ndarray, disparity: np.ndarray,
               valid: np.ndarray, sgbm: SgbmConfig) -> tuple[dict, np.ndarray]:
    """Metrics of one row: left/right (N,T,H,W,3) uint8, GT disparity/valid (N,T,H,W).
    Returns (metrics, SGBM disparity of scene 0 (T,H,W) for the figure)."""
    warp = [lr_warping_error(left[i], right[i], disparity[i], valid[i]).mean
            for i in range(left.shape[0])]
    est, ok = [], []
    t0 = time.perf_counter()
    for lf, rf in zip(left.reshape(-1, *left.shape[2:]), right.reshape(-1, *right.shape[2:]),
                      strict=True):
        d, v = sgbm_disparity(lf, rf, sgbm)
        est.append(d)
        ok.append(v)
    sgbm_ms = 1000 * (time.perf_counter() - t0) / len(est)
    est_a, ok_a = np.stack(est).reshape(disparity.shape), np.stack(ok).reshape(disparity.shape)
    score = disparity_error(est_a, ok_a, disparity, valid)
    inner = disparity_error(est_a, ok_a, disparity, valid & interior(disparity.shape[-2:]))
    metrics = {"lr_warping_error": float(np.mean(warp)), "sgbm_epe": score.epe,
               "sgbm_bad3": score.bad3, "sgbm_density": score.density,
               "sgbm_epe_interior": inner.epe, "sgbm_ms": sgbm_ms}
    return metrics, np.where(ok_a[0], est_a[0], np.nan)


@dataclass
class StereoResult:
    """Rows (name -> metrics) and sample frames for the report figure."""

    config: dict
    machine: dict
    rows: dict[str, dict]
    samples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # name -> (L, R, SGBM) scene 0
    truth: np.ndarray  # GT disparity of scene 0 (T,H,W), NaN where invalid

    def metrics(self) -> dict:
        return {"config": self.config, "machine": self.machine, "rows": self.rows}


def _modes(method: Method) -> list[str]:
    """All three modes for a styled model; the per-view row only for one without style
    input."""
    return [PAIR, REPROJECTED, PER_VIEW] if _style_dim(method) > 0 else [PER_VIEW]


def _style_dim(method: Method) -> int:
    """Style input width of a method's model (0 when it has none, or for no model)."""
    if isinstance(method, ArtifactMethod):
        return int(method.translator.manifest.style_dim)
    if isinstance(method, CheckpointMethod):
        return int(method.cfg.style_dim)
    return 0


def run_stereo_eval(methods: list[Method], cfg: StereoEvalConfig,
                    progress: bool = True) -> StereoResult:
    """Simulate the held-out stereo scenes and score the reference rows and every method."""
    from .protocol import machine_info

    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f"method names must be unique, got {names}")
    data = simulate_stereo(cfg, progress)
    rows: dict[str, dict] = {}
    samples = {}
    refs = [(SIM_ROW, "sim"), (REAL_ROW, "real")]
    for name, app in refs:
        left, right = data.left.rgb[app], data.right.rgb[app]
        rows[name], est = score_pair(left, right, data.disparity[app], data.valid[app], cfg.sgbm)
        rows[name]["method"] = {"kind": "reference", "appearance": app}
        samples[name] = (left[0], right[0], est)
    for m in tqdm(methods, desc="stereo methods", disable=not progress):
        pair = None  # the stereo-pair translation, reused by the right-from-left row
        for mode in _modes(m):
            if mode == REPROJECTED and pair is not None:
                left, per_frame = pair[0], pair[2]
                right = right_from_left(pair[0], pair[1], data, cfg.reproject_tolerance)
            else:
                left, right, per_frame = translate_pairs(m, data, mode)
            if mode == PAIR:
                pair = (left, right, per_frame)
            row = f"{m.name} ({mode})"
            rows[row], est = score_pair(left, right, data.disparity["sim"],
                                        data.valid["sim"], cfg.sgbm)
            rows[row].update(method={**m.describe(), "mode": mode},
                             ms_per_frame=1000 * per_frame)
            samples[row] = (left[0], right[0], est)
            log.info("%s: LR warp %.5f, SGBM EPE %.3f px, bad-3 %.3f", row,
                     rows[row]["lr_warping_error"], rows[row]["sgbm_epe"],
                     rows[row]["sgbm_bad3"])
    truth = np.where(data.valid["sim"][0], data.disparity["sim"][0], np.nan)
    config = {**asdict(cfg), "seeds": [D.TEST_SEEDS, cfg.sequences]}
    return StereoResult(config, machine_info(), rows, samples, truth)


def check_stereo_targets(rows: dict[str, dict], ours: str) -> list[dict]:
    """The issue's stereo targets for model ``ours`` (its right-from-left row, what serving
    does with depth; else its stereo-pair row, or its only row),
    each {target, row, rule, value, threshold, met}: LR warping error <= 1.5 x the sim
    pair's, SGBM EPE <= 1.2 x the sim pair's, and SGBM EPE below per-view translation: the
    model's own per-view row and every model that only has a per-view row (no style input,
    e.g. CycleGAN)."""
    pair, own_view = f"{ours} ({PAIR})", f"{ours} ({PER_VIEW})"
    row = next((r for r in (f"{ours} ({REPROJECTED})", pair) if r in rows), own_view)
    if row not in rows:
        raise ValueError(f"'ours' {ours!r} has no row; rows are {sorted(rows)}")
    o, sim = rows[row], rows[SIM_ROW]
    out = []

    def add(target: str, value: float, threshold: float, met: bool, rule: str) -> None:
        out.append({"target": target, "row": row, "rule": rule, "value": value,
                    "threshold": threshold, "met": bool(met)})

    thr = 1.5 * sim["lr_warping_error"]
    add("left-right warping error", o["lr_warping_error"], thr, o["lr_warping_error"] <= thr,
        "<= 1.5 x sim pair")
    thr = 1.2 * sim["sgbm_epe"]
    add("SGBM end-point error", o["sgbm_epe"], thr, o["sgbm_epe"] <= thr, "<= 1.2 x sim pair")
    views = [n for n in rows if n.endswith(f"({PER_VIEW})") and n != row and (
        n == own_view or n.replace(PER_VIEW, PAIR) not in rows)]
    for name in views:
        r = rows[name]
        add(f"SGBM EPE vs {name}", o["sgbm_epe"], r["sgbm_epe"],
            o["sgbm_epe"] < r["sgbm_epe"], f"< {name}")
    return out


def check_all_targets(rows: dict[str, dict], models: list[str]) -> list[dict]:
    """:func:`check_stereo_targets` for each of ``models`` (in order)."""
    return [t for m in models for t in check_stereo_targets(rows, m)]
