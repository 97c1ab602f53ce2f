"""``train``'s run directory under the ``--force`` rule of :mod:`sim2real_gan.io.outputs`.

A run directory cannot be built aside and renamed like other outputs: TensorBoard reads it and
checkpoints appear in it while training runs, and ``--resume`` continues it. So it is claimed
instead: see :func:`claim_run_dir`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sim2real_gan.io.outputs import (
    PathLike,
    check_relations,
    is_empty_dir,
    is_inside,
    recognise_run,
    resolved,
    write_marker,
)
from sim2real_gan.io.staging import (
    OutputError,
    make_parents,
    remove_parents,
    set_aside,
    settle,
)


def resolve_checkpoint(path: PathLike) -> Path:
    """A training run directory, its ``checkpoints`` folder or its ``checkpoints/latest``
    pointer -> the checkpoint directory ``latest`` names; anything else is returned as is
    (an artifact, a checkpoint directory, or a path the caller reports as missing)."""
    p = Path(path)
    if p.is_file() and p.name == "latest":
        return p.parent / p.read_text(encoding="utf-8").strip()
    if (p / "model.json").is_file():
        return p
    for root in (p, p / "checkpoints"):
        if (root / "latest").is_file():
            return root / (root / "latest").read_text(encoding="utf-8").strip()
    return p


def _has_checkpoint(run: Path) -> bool:
    return (run / "checkpoints" / "latest").is_file()


def _is_main_rank() -> bool:
    return os.environ.get("RANK", "0") in ("", "0")


@contextmanager
def claim_run_dir(out: PathLike, inputs: Iterable[PathLike | None] = (), force: bool = False,
                  resume: PathLike | None = None) -> Iterator[Path]:
    """The ``--force`` rule for ``train``'s run directory, which grows while training runs.

    OUT may be new, an empty folder, the run that ``resume`` continues, or (with ``force``)
    a previous run, which is set aside and deleted once the new run has a checkpoint. When the
    block fails before the new run published a checkpoint, the new run directory (and every
    parent created for it) is removed and a replaced run is put back. Under torchrun only
    rank 0 touches the disk; the other ranks only check the inputs.

    Raises:
        OutputError: OUT relates to an input, holds something that is not a training run, or
            holds a run while neither ``resume`` nor ``force`` says what to do with it.
    """
    path = Path(os.path.abspath(out))
    continuing = resume is not None and (resolved(resume) == resolved(path)
                                         or is_inside(resolved(resume), resolved(path)))
    if continuing and force:
        raise OutputError(f"--force would delete the run {path} that --resume {resume} "
                          "continues; use one of them")
    check_relations(path, [*inputs, None if continuing else resume], flag="run directory")
    if continuing or not _is_main_rank():  # nothing is replaced or created here
        yield path
        return
    existing = os.path.lexists(path) and not is_empty_dir(path)
    if existing:
        reason = ("it is a symbolic link" if path.is_symlink() else
                  "it is a file" if not path.is_dir() else recognise_run(path, "train"))
        if reason:
            raise OutputError(f"run directory {path} exists and is not a training run "
                              f"({reason}); remove it yourself or choose another --out")
        if not force:
            raise OutputError(f"run directory {path} already holds a training run; use "
                              f"--resume {out} to continue it or --force to replace it")
    with _fresh_run(path, replace=existing) as run:
        yield run


@contextmanager
def _fresh_run(path: Path, replace: bool) -> Iterator[Path]:
    """Create (or empty-start) a run directory; undo it on failure without a checkpoint."""
    old = set_aside(path) if replace else None
    fresh = not os.path.lexists(path)
    created = make_parents(path) if fresh else []
    try:
        write_marker(path, "train", track_files=False)
        yield path
    except BaseException:
        if not _has_checkpoint(path):
            _remove_run(path, fresh, created)
        raise
    finally:
        if old is not None:
            settle(old)


def _remove_run(path: Path, fresh: bool, created: list[Path]) -> None:
    if fresh:
        shutil.rmtree(path, ignore_errors=True)
        remove_parents(created[1:])
    else:  # an empty folder the user made: keep it, empty again
        for p in path.iterdir():
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() \
                else p.unlink(missing_ok=True)
