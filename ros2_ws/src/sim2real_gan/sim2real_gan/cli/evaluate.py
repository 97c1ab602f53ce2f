"""``sim2real-gan evaluate --model NAME=PATH ... --out DIR``: the evaluation protocol + report.

Two protocols, one command: the built-in simulator protocol (held-out simulator scenes,
flags below), or, with ``--sim-bag BAG --footage VIDEO|DIR``, your own simulator recording
against your own footage (``cli/evaluate_own.py``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sim2real_gan.artifact import BACKEND_CHOICES
from sim2real_gan.cli import evaluate_own
from sim2real_gan.cli.argtypes import positive_int, threads_or_zero

log = logging.getLogger("sim2real_gan.evaluate")

PROFILES = {
    # name: (size, frames, test seqs, train seqs, segmenter steps, feature steps, domain steps)
    "quick": (32, 4, 4, 4, 20, 20, 20),
    "small": (64, 8, 8, 16, 300, 300, 200),
    "standard": (128, 16, 16, 48, 1500, 800, 500),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score models on held-out simulator scenes, or on your "
                       "own sim bag against your footage; write a report",
                       description="Run the evaluation protocol (docs/evaluation.md) on held-out "
                       "simulator seeds for 'no translation' and every --model: temporal warping "
                       "error, tOF, SSIM, KID/FID, domain classifier accuracy, label-preservation "
                       "and downstream mIoU. With --sim-bag and --footage: your own simulator "
                       "recording against your own footage instead (warping error with the bag's "
                       "or estimated flow, KID/FID and domain accuracy against the footage inside "
                       "its content mask, label preservation with a segmenter trained on the "
                       "bag's labels). Writes OUT/metrics.json, report.md, report.html and PNG "
                       "figures atomically.")
    p.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                   help="model to evaluate: an exported artifact (model.json), a generator "
                   "checkpoint (config.json) or a training run directory (checkpoints/latest); "
                   "repeatable")
    p.add_argument("--out", type=Path, required=True, help="report directory to create")
    p.add_argument("--force", action="store_true",
                   help="replace OUT if it is a previous evaluate report (docs/safety.md)")
    p.add_argument("--ours", default=None,
                   help="model name checked against the targets (default: the first --model)")
    p.add_argument("--baseline", default=None,
                   help="baseline model name for the targets (default: 'cyclegan' if present)")
    p.add_argument("--profile", choices=sorted(PROFILES), default="small",
                   help="protocol size preset (default small: 64x64, 8 test sequences x 8 "
                   "frames, segmenters 300 steps)")
    p.add_argument("--size", type=positive_int, default=None,
                   help="frame width = height (multiple of 4); own data: the width (multiple "
                   "of 8; the height follows the footage's content area)")
    p.add_argument("--frames", type=positive_int, default=None,
                   help="frames per sequence (>= 2); own data: per clip")
    p.add_argument("--test-sequences", type=positive_int, default=None,
                   help="held-out test sequences")
    p.add_argument("--train-sequences", type=positive_int, default=None,
                   help="sequences for the real-domain networks and the downstream segmenters")
    p.add_argument("--segmenter-steps", type=positive_int, default=None,
                   help="segmenter training steps")
    p.add_argument("--segmenter-crop", type=positive_int, default=None, metavar="N",
                   help="train the segmenters on random N x N windows (a multiple of 4, at most "
                   "--size) instead of whole frames: about (size/N)^2 times cheaper per step")
    p.add_argument("--backend", default="auto", choices=BACKEND_CHOICES,
                   help="runtime backend for artifacts (default auto)")
    p.add_argument("--size-mode", choices=("native", "working"), default="native",
                   help="artifacts: run at the frame size (native, default) or resize to the "
                   "model's working resolution and back (working)")
    p.add_argument("--style", default="per-sequence",
                   help="style of styled models: per-sequence (seed = sequence index, default), "
                   "default (the model's default style) or an integer seed")
    p.add_argument("--inception", type=Path, default=None,
                   help="local Inception-v3 TorchScript file (inception-2015-12-05.pt format) "
                   "to add standard Inception KID/FID")
    p.add_argument("--real-frames", type=Path, default=None, metavar="DIR",
                   help="folder of your own real footage frames: adds KID/FID of every method "
                   "against them (footage_kid/fid; Inception too with --inception)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="cache for the feature network (default $SIM2REAL_GAN_CACHE or "
                   "~/.cache/sim2real_gan)")
    p.add_argument("--threads", type=threads_or_zero, default=0,
                   help="torch CPU threads, 0..cores (0 = leave as is; 1 is fastest for these "
                   "small networks on a busy machine)")
    p.add_argument("--stereo", action="store_true",
                   help="stereo evaluation instead (docs/stereo.md): left-right warping error "
                   "and OpenCV SGBM disparity error of each model's stereo-pair and per-view "
                   "translations on held-out stereo scenes (defaults --size 256, --frames 4, "
                   "--test-sequences 8; the protocol's other options do not apply)")
    p.add_argument("--title", default="sim2real_gan evaluation", help="report title")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    evaluate_own.add_arguments(p)
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    """The :class:`ProtocolConfig` for the chosen profile and overrides."""
    from sim2real_gan.eval.features import FeatureNetConfig
    from sim2real_gan.eval.protocol import ProtocolConfig
    from sim2real_gan.eval.realism import DomainClassifierConfig
    from sim2real_gan.eval.segmentation import SegmenterConfig

    size, frames, test, train, seg, feat, dom = PROFILES[args.profile]
    size = args.size or size
    train = args.train_sequences or train
    crop = args.segmenter_crop or 0
    if crop and (crop % 4 or crop > size):
        raise ValueError(f"--segmenter-crop {crop}: expected a multiple of 4 no larger than the "
                         f"frame size {size}")
    fnet_size = min(size, 64)
    return ProtocolConfig(
        width=size, height=size, frames=args.frames or frames,
        test_sequences=args.test_sequences or test, real_train_sequences=train,
        downstream_sequences=train,
        segmenter=SegmenterConfig(steps=args.segmenter_steps or seg,
                                  width=8 if args.profile == "quick" else 16, crop=crop),
        feature_net=FeatureNetConfig(steps=feat, input_size=fnet_size),
        domain=DomainClassifierConfig(steps=dom, input_size=fnet_size),
        kid_subsets=5 if args.profile == "quick" else 50,
        inception=str(args.inception) if args.inception else "",
        footage=str(args.real_frames) if args.real_frames else "",
        profile_frames=8 if args.profile == "quick" else 32)


def run(args: argparse.Namespace) -> int:
    import torch

    from sim2real_gan.eval.methods import Identity, load_method
    from sim2real_gan.eval.protocol import check_targets, run_protocol
    from sim2real_gan.eval.report import write_report
    from sim2real_gan.io.outputs import check_output, staged_output

    evaluate_own.check_flags(args)
    own = args.sim_bag is not None
    inputs = [*_model_paths(args.model), args.inception, args.real_frames, args.cache_dir,
              *(evaluate_own.inputs(args) if own else [])]
    check_output(args.out, "evaluate", inputs, args.force)  # before the long protocol run
    if args.inception is not None and not args.inception.is_file():
        raise FileNotFoundError(f"--inception: no such file {args.inception}")
    if args.real_frames is not None and not args.real_frames.is_dir():
        raise FileNotFoundError(f"--real-frames: no such folder {args.real_frames}")
    if args.stereo:
        from sim2real_gan.cli.evaluate_stereo import run_stereo

        return run_stereo(args, inputs)
    if args.threads:
        torch.set_num_threads(args.threads)
    methods = [Identity()] + [load_method(s, args.backend, args.style, args.size_mode) for s in args.model]
    if own:
        return evaluate_own.run(args, methods, inputs)
    cfg = build_config(args)
    names = [m.name for m in methods]
    ours = args.ours or (names[1] if len(names) > 1 else None)
    baseline = args.baseline or ("cyclegan" if "cyclegan" in names else None)
    for flag, name in (("--ours", ours), ("--baseline", baseline)):
        if name is not None and name not in names:
            raise ValueError(f"{flag} {name!r} is not one of the evaluated models {names}")
    result = run_protocol(methods, cfg, args.cache_dir, progress=not args.no_progress)
    targets = check_targets(result.metrics(), ours, baseline) if ours else []
    with staged_output(args.out, "evaluate", inputs, args.force) as built:
        write_report(result, built, targets, args.title)
    out = args.out
    for t in targets:
        status = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
        log.info("target %-24s %s: %.4f vs %.4f (%s)", t["target"], status, t["value"],
                 t["threshold"], t["rule"])
    log.info("report: %s", out / "report.md")
    return 0


def _model_paths(specs: list[str]) -> list[Path]:
    """The existing paths named by ``--model NAME=PATH`` (an output must keep off them)."""
    paths = [Path(spec.partition("=")[2] or spec) for spec in specs]
    return [p for p in paths if p.exists()]
