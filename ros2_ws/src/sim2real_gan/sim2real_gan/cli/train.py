"""``sim2real-gan train --config tiny [--set key=value ...]`` or ``--resume RUN [--set ...]``.

Thin wrapper over ``training.train`` (the offline training package shipped beside the core
package). Under torchrun: ``torchrun --nproc_per_node=N -m training.train ...``.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from training.train import add_arguments

    p = sub.add_parser("train", help="train a sim->real translator (see docs/training.md)",
                       description="Train a generator from a YAML recipe in training/configs/ "
                       "with dotted overrides. Writes RUN/checkpoints/step_N (generator "
                       "checkpoint + trainer state), RUN/tb (TensorBoard).")
    add_arguments(p)
    p.set_defaults(func=_run, resume_prog="sim2real-gan train")


def _run(args: argparse.Namespace) -> int:
    from training.train import run

    return run(args)
