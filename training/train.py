"""Command-line training entry point (also used by ``sim2real-gan train``).

    python -m training.train --config tiny
    torchrun --nproc_per_node=2 -m training.train --config tiny --set out_dir=runs/ddp
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default="tiny",
                   help="YAML file or preset name in training/configs/ (default: tiny)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field by dotted path, e.g. optim.lr_g=1e-4 "
                        "(repeatable; values parsed as YAML)")
    p.add_argument("--resume", default=None,
                   help="continue from a run directory or checkpoints/step_N directory")
    p.add_argument("--out", default=None, help="shortcut for --set out_dir=DIR")
    p.add_argument("--steps", type=int, default=None, help="shortcut for --set steps=N")
    p.add_argument("--force", action="store_true",
                   help="replace the run directory if it holds a previous training run")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as YAML and exit")


def run(args: argparse.Namespace) -> int:
    import yaml

    from .config import load_config
    from .distributed import cleanup
    from .trainer import Trainer

    overrides = list(args.overrides)
    if args.out:
        overrides.append(f"out_dir={args.out}")
    if args.steps is not None:
        overrides.append(f"steps={args.steps}")
    cfg = load_config(args.config, overrides)
    if args.print_config:
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        return 0
    from sim2real_gan.io.run_dir import claim_run_dir

    try:
        with claim_run_dir(cfg.out_dir, _inputs(cfg), args.force, args.resume):
            Trainer(cfg, resume=args.resume).fit()
    finally:
        cleanup()
    return 0


def _inputs(cfg: Any) -> list[str]:
    """Paths the run reads (data, data caches, teacher, segmenter): the run dir keeps off."""
    out = [p for src in (cfg.data.sim, cfg.data.real) if src is not None
           for p in (*src.paths, src.cache) if p]
    if cfg.teacher:
        out.append(cfg.teacher)
    if cfg.loss.segmenter not in ("", "auto", "auto-sim"):
        out.append(cfg.loss.segmenter)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
