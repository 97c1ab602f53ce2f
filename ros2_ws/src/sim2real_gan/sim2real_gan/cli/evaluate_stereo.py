"""``sim2real-gan evaluate --stereo``: left-right consistency and SGBM depth of translated
stereo pairs on held-out simulator scenes (docs/stereo.md), with a report."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger("sim2real_gan.evaluate")

STEREO_DEFAULTS = {"size": 256, "frames": 4, "test_sequences": 8}


def run_stereo(args: argparse.Namespace, inputs: list) -> int:
    """Score ``--model`` s as stereo pairs and per view; write OUT (atomic). Targets are
    checked for ``--ours``, or for every model when it is not given."""
    import torch

    from sim2real_gan.eval.methods import load_method
    from sim2real_gan.eval.stereo import StereoEvalConfig, check_all_targets, run_stereo_eval
    from sim2real_gan.eval.stereo_report import write_stereo_report
    from sim2real_gan.io.outputs import staged_output

    if args.threads:
        torch.set_num_threads(args.threads)
    size = args.size or STEREO_DEFAULTS["size"]
    cfg = StereoEvalConfig(width=size, height=size,
                           frames=args.frames or STEREO_DEFAULTS["frames"],
                           sequences=args.test_sequences or STEREO_DEFAULTS["test_sequences"])
    methods = [load_method(s, args.backend, args.style, args.size_mode) for s in args.model]
    names = [m.name for m in methods]
    if args.ours is not None and args.ours not in names:
        raise ValueError(f"--ours {args.ours!r} is not one of the evaluated models {names}")
    result = run_stereo_eval(methods, cfg, progress=not args.no_progress)
    targets = check_all_targets(result.rows, [args.ours] if args.ours else names)
    with staged_output(args.out, "evaluate", inputs, args.force) as built:
        write_stereo_report(result, built, targets, args.title)
    for t in targets:
        log.info("%s: target %-40s %s: %.5g vs %.5g (%s)", t["row"], t["target"],
                 "met" if t["met"] else "MISSED", t["value"], t["threshold"], t["rule"])
    log.info("report: %s", args.out / "report.md")
    return 0
