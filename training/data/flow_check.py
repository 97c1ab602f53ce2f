"""How good is estimated flow? Compare it with the built-in simulator's ground truth.

    python -m training.data.flow_check [--sequences 8] [--frames 16] [--size 256]

On held-out simulator scenes (the evaluation TEST seeds, ``sim`` appearance, the
product's camera lighting), for each DIS preset: end-point error (EPE, px) on all
ground-truth-valid pixels and on those the estimate also marks valid, the fraction of
pixels marked valid, the mask's precision (marked valid and GT-valid) and recall, the
fraction of marked pixels that are GT-valid with EPE < 1 px, and the time per pair (both
directions + check). Rows ``+depth`` also drop pixels without a surface (depth 0), as
training does when the recording has depth. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from .flow import PRESETS, FlowEstimator


def _scores(est: np.ndarray, ok: np.ndarray, gt: np.ndarray, gt_ok: np.ndarray) -> dict:
    epe = np.linalg.norm(est - gt, axis=-1)
    both = ok & gt_ok
    return {"epe_gt_valid": float(epe[gt_ok].mean()), "epe_both": float(epe[both].mean()),
            "valid_frac": float(ok.mean()), "gt_valid_frac": float(gt_ok.mean()),
            "precision": float(both.sum() / max(ok.sum(), 1)),
            "recall": float(both.sum() / max(gt_ok.sum(), 1)),
            "accurate": float((both & (epe < 1.0)).sum() / max(ok.sum(), 1))}


def check(sequences: int, frames: int, size: int, presets: list[str]) -> list[dict]:
    """One result dict per (preset, with/without depth gating)."""
    from sim2real_gan.eval.data import TEST_SEEDS, seeds, simulate_sequences

    seq = simulate_sequences(seeds(TEST_SEEDS, sequences), frames, size, size, ("sim",),
                             progress=True, desc="simulate test scenes")
    rgb = seq.rgb["sim"]
    rows = []
    for preset in presets:
        est_fn = FlowEstimator(preset)
        flows, oks, t0 = [], [], time.perf_counter()
        for n in range(rgb.shape[0]):
            for t in range(rgb.shape[1] - 1):
                f, ok = est_fn(rgb[n, t], rgb[n, t + 1])
                flows.append(f)
                oks.append(ok)
        ms = 1000 * (time.perf_counter() - t0) / len(flows)
        est, ok = np.stack(flows), np.stack(oks)
        gt = seq.flow[:, :-1].reshape(est.shape)
        gt_ok = seq.flow_valid[:, :-1].reshape(ok.shape)
        surface = seq.depth[:, :-1].reshape(ok.shape) > 0
        for gated, mask in ((False, ok), (True, ok & surface)):
            rows.append({"preset": preset + (" +depth" if gated else ""), "ms_per_pair": ms,
                         "pairs": len(flows), **_scores(est, mask, gt, gt_ok)})
    return rows


def table(rows: list[dict]) -> str:
    head = ("| estimator | EPE on GT-valid px | EPE where both valid | marked valid | "
            "GT valid | precision | recall | valid and EPE < 1 px | ms/pair |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| DIS {r['preset']} | {r['epe_gt_valid']:.3f} | {r['epe_both']:.3f} | "
                     f"{100 * r['valid_frac']:.1f}% | {100 * r['gt_valid_frac']:.1f}% | "
                     f"{100 * r['precision']:.1f}% | {100 * r['recall']:.1f}% | "
                     f"{100 * r['accurate']:.1f}% | {r['ms_per_pair']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.data.flow_check",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--sequences", type=int, default=8, help="held-out scenes (default 8)")
    p.add_argument("--frames", type=int, default=16, help="frames per scene (default 16)")
    p.add_argument("--size", type=int, default=256, help="frame side in px (default 256)")
    p.add_argument("--presets", default="ultrafast,fast,medium",
                   help=f"comma-separated DIS presets of {sorted(PRESETS)}")
    args = p.parse_args(argv)
    presets = [s for s in args.presets.split(",") if s]
    for s in presets:
        FlowEstimator(s)  # validates the name
    if args.sequences < 1 or args.frames < 2 or args.size < 16:
        p.error("need --sequences >= 1, --frames >= 2, --size >= 16")
    rows = check(args.sequences, args.frames, args.size, presets)
    print(f"{args.sequences} test scenes x {args.frames - 1} pairs at {args.size}x{args.size}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
