"""``sim2real-gan`` entry point.

Each command lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed namespace and returning
an exit code. Heavy imports (torch, onnxruntime) happen inside those callables so
``sim2real-gan --help`` stays fast.

``train`` is the exception: its options come from the offline ``training`` package, which a
colcon (ROS) install does not ship. The parser here only reserves the name; the real ``train``
parser (``cli/train.py``) is built, and ``training`` imported, only when ``train`` runs, so
every other command works without ``training`` (and ``train`` says what is missing).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sim2real_gan import __version__
from sim2real_gan.cli import bench as bench_cmd
from sim2real_gan.cli import demo as demo_cmd
from sim2real_gan.cli import evaluate as evaluate_cmd
from sim2real_gan.cli import export as export_cmd
from sim2real_gan.cli import simulate as simulate_cmd
from sim2real_gan.cli import train as train_cmd
from sim2real_gan.cli import translate_bag as translate_bag_cmd

TRAIN = "train"
TRAIN_MISSING = ("train needs the offline `training` package, which ships with the source tree "
                 "(pip install -e <repository>), not with the colcon/ROS install; every other "
                 "command works without it")

# Explicit registry: only commands that work are listed here (``train`` is added lazily).
COMMANDS: list = [
    simulate_cmd,
    export_cmd,
    bench_cmd,
    translate_bag_cmd,
    demo_cmd,
    evaluate_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sim2real-gan",
        description="Temporally consistent sim->real translation for simulated endoscope streams.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser(TRAIN, add_help=False, help="train a sim->real translator (see "
                   "docs/training.md; needs the `training` package)")
    for module in COMMANDS:
        module.register(sub)
    return parser


def train_parser() -> argparse.ArgumentParser:
    """The full ``train`` parser (imports ``training``; ModuleNotFoundError without it)."""
    parser = argparse.ArgumentParser(prog="sim2real-gan")
    train_cmd.register(parser.add_subparsers(dest="command", required=True))
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; ``train``'s own options go to the lazily built train parser."""
    args, extra = parser.parse_known_args(argv)
    if args.command != TRAIN:
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return args
    try:
        targs = train_parser().parse_args([TRAIN, *extra])
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "training":
            raise
        parser.exit(2, f"sim2real-gan train: error: {TRAIN_MISSING}\n")
    targs.verbose = args.verbose
    return targs


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = _parse(parser, argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, FileExistsError) as exc:
        # Expected user errors: one clear line, no traceback.
        logging.getLogger("sim2real_gan").error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
