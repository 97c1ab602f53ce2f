"""Write a directory atomically: build it under a temporary name, then rename (files:
:func:`sim2real_gan.io.staging.atomic_write_bytes`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim2real_gan.io.staging import atomic_path


@contextmanager
def atomic_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh temporary directory beside ``target``; on success it becomes ``target``.

    If the body raises (or the process is interrupted: see :mod:`sim2real_gan.io.interrupt`),
    the temporary directory and any parent folder created for it are removed and ``target``
    is untouched. With ``overwrite=True`` an existing ``target`` is replaced (moved aside,
    then deleted, so a reader never sees a half-written directory). Which targets a command
    may replace is decided before, by :mod:`sim2real_gan.io.outputs`.

    Raises:
        FileExistsError: ``target`` exists and ``overwrite`` is False.
    """
    with atomic_path(target, replace=overwrite) as built:
        built.mkdir()
        yield built
