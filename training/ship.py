"""Copy a training checkpoint's generator files into a model directory (models/default).

    python -m training.ship runs/rt models/default --force

Copies ``generator.safetensors``, ``config.json`` and ``style_encoder.safetensors`` (those the
checkpoint has; a style encoder the checkpoint lacks is not kept beside its new generator);
trainer state stays behind. Prints the step and the last logged losses.

Writes through :mod:`sim2real_gan.io.outputs` (the rule of every writing command): DST must
not be, contain or lie inside the run; a new or empty DST gets the files and the output
marker; an existing DST is changed only with ``--force`` and only when it is a model artifact
(``model.json``: the rest of the artifact is kept) or a previous ``ship`` output. The new
folder is built beside DST and swapped in whole, so an interruption leaves the old one.
Exit status: 0, 2 (one line naming what was wrong), 130/143/129 (interrupted, nothing
changed).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .nets import resolve_generator_dir

FILES = ("generator.safetensors", "config.json", "style_encoder.safetensors")
COMMAND = "ship"
log = logging.getLogger("sim2real_gan.ship")


def _keep_from(dst: Path, replaced: bool) -> list[Path]:
    """Entries of an existing DST that stay (everything but the generator files and the
    output marker, which is rewritten)."""
    from sim2real_gan.io.outputs import MARKER

    if not replaced or not dst.is_dir():
        return []
    return [p for p in sorted(dst.iterdir()) if p.name not in (*FILES, MARKER)]


def ship(src: str | Path, dst: str | Path, force: bool = False) -> dict:
    """Copy the generator files of ``src`` (a run or a checkpoint directory) into ``dst``;
    returns the checkpoint's ``meta`` (step, losses).

    Raises:
        FileNotFoundError: ``src`` holds no generator checkpoint.
        OutputError (a ValueError): ``dst`` may not be written (the reason, one line).
    """
    from sim2real_gan.artifact.registry import MANIFEST_FILE
    from sim2real_gan.io.outputs import check_output, write_marker
    from sim2real_gan.io.staging import atomic_path

    dst = Path(dst)
    try:
        ckpt = resolve_generator_dir(src)
    except FileNotFoundError:
        ckpt = Path(src)
    if not (ckpt / "config.json").is_file():
        raise FileNotFoundError(f"{src}: no generator checkpoint (expected a run directory "
                                "with checkpoints/latest or a checkpoint directory with "
                                "config.json)")
    meta = json.loads((ckpt / "config.json").read_text(encoding="utf-8")).get("meta", {})
    replaced = check_output(dst, COMMAND, [src, ckpt], force)
    keep = _keep_from(dst, replaced)
    with atomic_path(dst, replace=replaced) as built:
        built.mkdir()
        for entry in keep:  # the rest of a model artifact (model.onnx, MODEL_CARD.md, ...)
            shutil.copy2(entry, built / entry.name)
        for name in FILES:
            if (ckpt / name).is_file():
                shutil.copyfile(ckpt / name, built / name)
        if not (built / MANIFEST_FILE).exists():  # an artifact stays an artifact: no marker
            write_marker(built, COMMAND)
    return meta


def _line(meta: dict) -> str:
    losses = ", ".join(f"{k}={v:.4f}" for k, v in sorted(meta.get("losses", {}).items())
                       if isinstance(v, float))
    return f"step {meta.get('step')}: {losses}"


def main(argv: Sequence[str] | None = None) -> int:
    from sim2real_gan.cli.errors import describe
    from sim2real_gan.io.interrupt import interrupt_guard
    from sim2real_gan.io.staging import remove_registered

    ap = argparse.ArgumentParser(prog="python -m training.ship", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="run directory or checkpoints/step_N directory")
    ap.add_argument("dst", help="model directory, e.g. models/default")
    ap.add_argument("--force", action="store_true",
                    help="replace the generator files of DST when it is a model artifact or "
                         "a previous ship output")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        with interrupt_guard():
            args = ap.parse_args(argv)
            print(_line(ship(args.src, args.dst, args.force)))
            return 0
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every ending is one line and a status
        code, line = describe(exc)
        log.error("ship: %s", line)
        return code
    finally:
        remove_registered()


if __name__ == "__main__":
    sys.exit(main())
