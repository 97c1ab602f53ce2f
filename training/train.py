"""Command-line training entry point (also used by ``sim2real-gan train``).

    python -m training.train --config tiny
    python -m training.train --resume runs/tiny          # the run's own recipe and data
    torchrun --nproc_per_node=2 -m training.train --config tiny --set out_dir=runs/ddp

Exit codes: 0 done, 2 bad recipe or data (one line, nothing written), 130 / 143 / 129
stopped by SIGINT / SIGTERM / SIGHUP (a checkpoint was written when training had started;
the resume command is printed).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import TrainConfig

log = logging.getLogger("sim2real_gan.train")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default=None,
                   help="YAML file or preset name in training/configs/ (default: tiny; not "
                        "with --resume, which restores the run's own recipe)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field by dotted path, e.g. optim.lr_g=1e-4 "
                        "(repeatable; values parsed as YAML; with --resume: applied to the "
                        "run's recipe and logged)")
    p.add_argument("--resume", default=None, metavar="RUN",
                   help="continue a run directory (or one of its checkpoints/step_N) with "
                        "its own recipe and data")
    p.add_argument("--out", default=None, help="shortcut for --set out_dir=DIR")
    p.add_argument("--steps", type=int, default=None, help="shortcut for --set steps=N")
    p.add_argument("--force", action="store_true",
                   help="replace the run directory if it holds a previous training run")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as YAML and exit")
    p.set_defaults(resume_prog="python -m training.train")


def resume_command(prog: str, run_dir: str) -> str:
    """The command that continues ``run_dir`` (torchrun form under torchrun)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        prog = f"torchrun --nproc_per_node={os.environ.get('LOCAL_WORLD_SIZE', world)} " \
               "-m training.train"
    return f"{prog} --resume {shlex.quote(run_dir)}"


def _recipe(args: argparse.Namespace) -> tuple[TrainConfig, frozenset[str], Path | None]:
    """-> (config, keys set on the command line, checkpoint to resume from or None)."""
    from .config import load_config, override_keys
    from .recipe import restore

    overrides = list(args.overrides)
    if args.out:
        overrides.append(f"out_dir={args.out}")
    if args.steps is not None:
        overrides.append(f"steps={args.steps}")
    if args.resume:
        if args.config is not None:
            raise ValueError("train: --resume restores the run's own recipe; drop --config "
                             "(change fields with --set KEY=VALUE)")
        _check_force(args)
        cfg, ckpt = restore(args.resume, overrides)
        return _check_threads(cfg), override_keys(overrides), ckpt
    return _check_threads(load_config(args.config or "tiny", overrides)), \
        override_keys(overrides), None


def _check_threads(cfg: TrainConfig) -> TrainConfig:
    """``threads`` (torch CPU threads; 0 = torch's default) by the CLI's one thread-count
    rule: 0..this machine's cores. Raises ValueError (one line, exit 2)."""
    from sim2real_gan.cli.argtypes import check_thread_count

    check_thread_count(cfg.threads, "train: threads (set it with --set threads=N)",
                       allow_zero=True)
    return cfg


def _check_force(args: argparse.Namespace) -> None:
    """``--force`` with ``--resume`` into the same run would delete what it continues."""
    from sim2real_gan.io.outputs import is_inside, resolved

    if not args.force:
        return
    resume = resolved(args.resume)
    if args.out is None or resume == resolved(args.out) or is_inside(resume, resolved(args.out)):
        raise ValueError(f"--force would delete the run that --resume {args.resume} "
                         "continues; use one of them")


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; returns the exit code (bad recipes raise ValueError /
    FileNotFoundError for the command layer to print as one line, exit 2)."""
    import yaml

    from .distributed import cleanup, launched_rank
    from .recipe import input_paths
    from .stop import Interrupted, StopSignal
    from .trainer import Trainer

    cfg, explicit, ckpt = _recipe(args)
    if args.print_config:
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        return 0
    from sim2real_gan.io.run_dir import claim_run_dir

    main_rank = launched_rank() == 0
    with StopSignal() as stop:
        try:
            with claim_run_dir(cfg.out_dir, input_paths(cfg), args.force, ckpt):
                Trainer(cfg, resume=ckpt, explicit=explicit).fit(stop)
        except Interrupted as exc:
            if main_rank and exc.checkpoint is not None:
                log.warning("stopped by %s at step %d; checkpoint %s; resume with: %s",
                            exc.signal_name, exc.step, exc.checkpoint,
                            resume_command(args.resume_prog, cfg.out_dir))
            elif main_rank:
                log.warning("stopped by %s before training started; nothing was written",
                            exc.signal_name)
            return exc.exit_code
        finally:
            cleanup()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m training.train`` and each torchrun worker: the whole run (parsing, the
    torch import, the recipe, training) inside the interrupt guard, so SIGINT/SIGTERM/SIGHUP
    at any point end with one line and 130/143/129 (the trainer's own stop path writes the
    checkpoint once training has started); a bad recipe, data or environment is one line,
    exit 2 (:func:`sim2real_gan.cli.errors.describe`, as ``sim2real-gan train``)."""
    from sim2real_gan.cli.errors import debug_requested, describe
    from sim2real_gan.io.interrupt import interrupt_guard, raise_if_pending
    from sim2real_gan.io.staging import remove_registered

    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        with interrupt_guard():
            code = run(p.parse_args(argv))
            raise_if_pending()
            return code
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every ending is one line and a status
        code, line = describe(exc)
        if debug_requested():  # SIM2REAL_GAN_DEBUG=1: the traceback too
            log.error("traceback:", exc_info=(type(exc), exc, exc.__traceback__))
        log.error("%s", line)
        return code
    finally:
        remove_registered()


if __name__ == "__main__":
    sys.exit(main())
