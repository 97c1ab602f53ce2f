"""How good is estimated flow? Compare it with the built-in simulator's ground truth.

    python -m training.data.flow_check [--sequences 8] [--frames 16] [--size 256]

On held-out simulator scenes (the evaluation TEST seeds, ``sim`` appearance, the
product's camera lighting), for each estimator: end-point error (EPE, px) on all
ground-truth-valid pixels and on those the estimate also marks valid, the fraction of
pixels marked valid, the mask's precision (marked valid and GT-valid) and recall, the
fraction of marked pixels that are GT-valid with EPE < 1 px, the warping error of the sim
input frames with the estimate's flow and mask (E_warp, eval.temporal; the GT flow and
mask give the reference row), and the time per pair. Estimators: ``zero`` (no motion, the
floor any estimate must beat), ``dis`` (images only: what a recording without depth or
poses gets) and ``dis+depth/pose`` (what a recording with depth, camera_info and /tf gets;
the simulator's intrinsics and camera poses stand in for them), each also ``+labels``: what
training computes when the recording also has labels (the estimator corrects each labelled
part's own motion, flow/parts.py, and the mask gets the label-footprint check,
flow_cache.py). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sim2real_gan.flow import Camera, FlowEstimator
from sim2real_gan.flow.estimate import same_label_footprint
from tqdm import tqdm


def _scores(est: np.ndarray, ok: np.ndarray, gt: np.ndarray, gt_ok: np.ndarray) -> dict:
    epe = np.linalg.norm(est - gt, axis=-1)
    both = ok & gt_ok
    return {"epe_gt_valid": float(epe[gt_ok].mean()), "epe_both": float(epe[both].mean()),
            "valid_frac": float(ok.mean()), "gt_valid_frac": float(gt_ok.mean()),
            "precision": float(both.sum() / max(ok.sum(), 1)),
            "recall": float(both.sum() / max(gt_ok.sum(), 1)),
            "accurate": float((both & (epe < 1.0)).sum() / max(ok.sum(), 1))}


def _scenes(sequences: int, frames: int, size: int) -> list[list]:
    from sim2real_gan.eval.data import TEST_SEEDS, seeds
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    cfg = SimConfig(width=size, height=size, appearances=("sim",))
    return [list(EndoscopeSimulator(cfg, s).frames(frames))
            for s in tqdm(seeds(TEST_SEEDS, sequences), desc="simulate test scenes")]


def _warp_error(scenes: list[list], flows: np.ndarray, valid: np.ndarray) -> float:
    from sim2real_gan.eval.temporal import warping_error

    n, t = len(scenes), len(scenes[0]) - 1
    f, v = flows.reshape(n, t, *flows.shape[1:]), valid.reshape(n, t, *valid.shape[1:])
    return float(np.mean([warping_error(np.stack([x.image("sim") for x in sc]), f[i], v[i]).mean
                          for i, sc in enumerate(scenes)]))


def _estimate(scenes: list[list], name: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Flow and validity of every pair as training computes them: ``+labels`` names give
    the estimator the labels (part motion) and apply the label-footprint check."""
    base, labels = name.removesuffix("+labels"), name.endswith("+labels")
    est = FlowEstimator(method="dis" if base == "dis" else "auto")
    flows, oks, t0 = [], [], time.perf_counter()
    for sc in scenes:
        for a, b in zip(sc[:-1], sc[1:], strict=True):
            if name == "zero":
                flows.append(np.zeros(a.flow.shape, np.float32))
                oks.append(a.depth > 0)
                continue
            cams = [Camera(f.K, f.cam_pose, f.depth.shape) for f in (a, b)]
            fa, fb = ({"image": x.image("sim"), "depth": x.depth} for x in (a, b))
            if labels:
                fa["labels"], fb["labels"] = a.labels, b.labels
            f, ok, _ = est(fa, fb, *cams)
            ok &= a.depth > 0  # as training gates it where depth is recorded
            if labels:
                ok &= same_label_footprint(a.labels, b.labels, f)
            flows.append(f)
            oks.append(ok)
    return np.stack(flows), np.stack(oks), 1000 * (time.perf_counter() - t0) / len(flows)


def check(sequences: int, frames: int, size: int) -> list[dict]:
    """One result dict per estimator, plus the ground truth's warping-error reference."""
    scenes = _scenes(sequences, frames, size)
    gt = np.stack([f.flow for sc in scenes for f in sc[:-1]])
    gt_ok = np.stack([f.flow_valid for sc in scenes for f in sc[:-1]])
    rows = [{"name": "ground truth", "pairs": len(gt), "ms_per_pair": 0.0,
             "warp": _warp_error(scenes, gt, gt_ok), **_scores(gt, gt_ok, gt, gt_ok)}]
    for name in ("zero", "dis", "dis+labels", "dis+depth/pose", "dis+depth/pose+labels"):
        est, ok, ms = _estimate(scenes, name)
        rows.append({"name": name, "pairs": len(est), "ms_per_pair": ms,
                     "warp": _warp_error(scenes, est, ok), **_scores(est, ok, gt, gt_ok)})
    return rows


def table(rows: list[dict]) -> str:
    head = ("| flow | EPE on GT-valid px | EPE where both valid | marked valid | precision | "
            "recall | valid and EPE < 1 px | input E_warp (x1e-4) | ms/pair |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| {r['name']} | {r['epe_gt_valid']:.3f} | {r['epe_both']:.3f} | "
                     f"{100 * r['valid_frac']:.1f}% | {100 * r['precision']:.1f}% | "
                     f"{100 * r['recall']:.1f}% | {100 * r['accurate']:.1f}% | "
                     f"{1e4 * r['warp']:.2f} | {r['ms_per_pair']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.data.flow_check",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--sequences", type=int, default=8, help="held-out scenes (default 8)")
    p.add_argument("--frames", type=int, default=16, help="frames per scene (default 16)")
    p.add_argument("--size", type=int, default=256, help="frame side in px (default 256)")
    args = p.parse_args(argv)
    if args.sequences < 1 or args.frames < 2 or args.size < 16:
        p.error("need --sequences >= 1, --frames >= 2, --size >= 16")
    rows = check(args.sequences, args.frames, args.size)
    print(f"{args.sequences} test scenes x {args.frames - 1} pairs at {args.size}x{args.size}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
