"""``sim2real-gan`` entry point.

Each command lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed namespace and returning
an exit code. Heavy imports (torch, onnxruntime) happen inside those callables so
``sim2real-gan --help`` stays fast.

``train`` is the exception: its options come from the offline ``training`` package, which a
colcon (ROS) install does not ship. The parser here only reserves the name; the real ``train``
parser (``cli/train.py``) is built, and ``training`` imported, only when ``train`` runs, so
every other command works without ``training`` (and ``train`` says what is missing).

Every ending is handled here: an error is one line ``sim2real-gan: error: ...`` and exit 2
(:mod:`sim2real_gan.cli.errors`); SIGINT/SIGTERM/SIGHUP raise
:class:`sim2real_gan.io.interrupt.Interrupted` so partial output is removed on the way out,
then exit 130/143/129; temporary output that a second signal kept from being removed is
removed last (:func:`sim2real_gan.io.staging.remove_registered`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from sim2real_gan import __version__
from sim2real_gan.cli import bench as bench_cmd
from sim2real_gan.cli import demo as demo_cmd
from sim2real_gan.cli import dump as dump_cmd
from sim2real_gan.cli import evaluate as evaluate_cmd
from sim2real_gan.cli import export as export_cmd
from sim2real_gan.cli import simulate as simulate_cmd
from sim2real_gan.cli import train as train_cmd
from sim2real_gan.cli import translate_bag as translate_bag_cmd
from sim2real_gan.cli.errors import debug_requested, describe, one_line
from sim2real_gan.io.interrupt import interrupt_guard, raise_if_pending
from sim2real_gan.io.staging import remove_registered

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
    dump_cmd,
]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (the usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sim2real-gan",
        description="Temporally consistent sim->real translation for simulated endoscope streams.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (also SIM2REAL_GAN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser(TRAIN, add_help=False, help="train a sim->real translator (see "
                   "docs/training.md; needs the `training` package)")
    for module in COMMANDS:
        module.register(sub)
    return parser


def train_parser() -> argparse.ArgumentParser:
    """The full ``train`` parser (imports ``training``; ModuleNotFoundError without it)."""
    parser = _Parser(prog="sim2real-gan")
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
    targs.verbose, targs.debug = args.verbose, args.debug
    return targs


class _LineFormatter(logging.Formatter):
    """The usual ``LEVEL logger: message`` lines, but the final error line as it is."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "cli_line", False):
            return record.getMessage()
        return super().format(record)


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_LineFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])


def _fail(exc: BaseException, debug: bool) -> int:
    """Log the one line (and the traceback when asked); return the exit status."""
    code, line = describe(exc)
    log = logging.getLogger("sim2real_gan")
    if debug:
        log.error("traceback:", exc_info=(type(exc), exc, exc.__traceback__))
    log.error("sim2real-gan: error: %s", line, extra={"cli_line": True})
    return code


def main(argv: Sequence[str] | None = None) -> int:
    debug = debug_requested()
    try:
        with interrupt_guard():
            args = _parse(build_parser(), argv)
            debug = debug_requested(args.debug)
            _configure_logging(args.verbose)
            return _run(args, debug)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - e.g. an interruption as the guard closed
        return _fail(exc, debug)


def _run(args: argparse.Namespace, debug: bool) -> int:
    """Run the command; every ending becomes one line and an exit status."""
    try:
        code = int(args.func(args) or 0)
        raise_if_pending()
        return code
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every ending becomes one line + status
        return _fail(exc, debug)
    finally:
        remove_registered()


if __name__ == "__main__":
    sys.exit(main())
