"""``sim2real-gan`` entry point.

Each command lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed namespace and returning
an exit code. Heavy imports (torch, onnxruntime) happen inside those callables so
``sim2real-gan --help`` stays fast.
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

# Explicit registry: only commands that work are listed here.
COMMANDS: list = [
    simulate_cmd,
    train_cmd,
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
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
