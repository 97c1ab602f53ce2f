"""Atomic outputs: build under a hidden temporary name beside the target, then rename.

Every command that writes goes through :func:`atomic_path` (directly, or through
:mod:`sim2real_gan.io.outputs` and :class:`sim2real_gan.io.bag.BagWriter`):

- the output is built at ``<parent>/.<name>.tmp-XXXX/<name>`` and renamed to the target
  only when the ``with`` block ends without an exception;
- a replaced target is moved into that temporary directory first and deleted only after the
  new one is in place (put back if the rename fails);
- on any failure or interruption the temporary directory and every parent folder this call
  created are removed, so nothing this run made is left behind;
- each temporary directory is registered until it is gone, so the CLI's top-level handler can
  still remove it (:func:`remove_registered`) when a signal arrived in the middle of a cleanup.

Torch-free and ROS-free.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sim2real_gan.io.interrupt import raise_if_pending

REPLACED = ".replaced"  # name of a replaced target while it waits inside the temp dir


class OutputError(ValueError):
    """An output cannot be written where asked (and nothing was touched)."""


@dataclass
class _Stage:
    """One output under construction."""

    tmp: Path
    target: Path
    created: list[Path] = field(default_factory=list)  # parents made by us, deepest first
    done: bool = False


_ACTIVE: dict[Path, _Stage] = {}
_PUBLIC: dict[str, str] = {}  # temporary path prefix -> the target it stood for


def make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing ancestors; return those created, deepest first.

    Raises:
        OutputError: an ancestor exists and is not a directory.
    """
    missing: list[Path] = []
    p = folder
    while not p.exists():
        if p.is_symlink():  # dangling link: do not create through it
            raise OutputError(f"cannot create {folder}: {p} is a broken symbolic link")
        missing.append(p)
        p = p.parent
    if not p.is_dir():
        raise OutputError(f"cannot create {folder}: {p} is a file, not a folder")
    made: list[Path] = []
    try:
        for q in reversed(missing):
            q.mkdir()
            made.insert(0, q)
    except BaseException:
        remove_parents(made)
        raise
    return made


def remove_parents(created: list[Path]) -> None:
    """Remove folders made by :func:`make_parents` (deepest first) that are still empty."""
    for p in created:
        try:
            p.rmdir()
        except OSError:
            return  # not empty (someone else wrote there) or already gone: stop here


def _cleanup(stage: _Stage) -> None:
    """Put a replaced target back if the swap did not finish, then delete the temp dir."""
    replaced = stage.tmp / REPLACED
    if replaced.exists() and not os.path.lexists(stage.target):
        os.replace(replaced, stage.target)
    shutil.rmtree(stage.tmp, ignore_errors=True)
    if not stage.done:
        remove_parents(stage.created)
    _ACTIVE.pop(stage.tmp, None)


def remove_registered() -> list[Path]:
    """Remove every temporary directory still registered (after an interrupted cleanup).

    Returns the targets whose temporary output was removed.
    """
    targets = []
    for stage in list(_ACTIVE.values()):
        _cleanup(stage)
        targets.append(stage.target)
    return targets


def public_path(path: str | os.PathLike) -> str:
    """Map a path inside a (possibly already removed) temporary directory to the target it
    was built for, so error messages name the path the user asked for."""
    text = os.fspath(path)
    for tmp_prefix, target in _PUBLIC.items():
        if text == tmp_prefix or text.startswith(tmp_prefix + os.sep):
            return target + text[len(tmp_prefix):]
    return text


@contextmanager
def atomic_path(target: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """Yield a not-yet-existing path to build the output at; on success it becomes ``target``.

    Args:
        target: the final file or directory.
        replace: an existing ``target`` may be replaced (the caller decided it may go).
    Raises:
        FileExistsError: ``target`` exists and ``replace`` is False.
        OutputError: a parent cannot be created, or the body wrote nothing.
    """
    target = Path(os.path.abspath(target))
    if os.path.lexists(target) and not replace:
        raise FileExistsError(f"{target} already exists (use --force to replace it)")
    created = make_parents(target.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        remove_parents(created)
        raise OutputError(f"cannot write {target}: {exc.strerror} "
                          f"(in {target.parent})") from None
    stage = _Stage(tmp, target, created)
    _ACTIVE[tmp] = stage
    built = tmp / target.name
    _PUBLIC[str(built)] = str(target)
    try:
        yield built
        if not os.path.lexists(built):
            raise OutputError(f"nothing was written to {target}")
        _commit(stage, built)
    finally:
        _cleanup(stage)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to the file ``path``, replacing it, through :func:`atomic_path`: a
    reader sees the old file or the new one, never a part; parents made for it are removed
    on failure. The one file-write helper for caches and sidecars (runtime's engine cache)."""
    with atomic_path(path, replace=True) as built:
        built.write_bytes(data)


def set_aside(target: Path) -> _Stage:
    """Move an existing ``target`` into a registered temporary directory beside it.

    :func:`settle` later deletes it when something new stands at ``target``, or puts it back
    when nothing does (also from :func:`remove_registered` after an interrupted cleanup).
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    stage = _Stage(tmp, target, done=True)
    _ACTIVE[tmp] = stage
    try:
        os.replace(target, tmp / REPLACED)
    except BaseException:
        _cleanup(stage)
        raise
    return stage


def settle(stage: _Stage) -> None:
    """Finish a :func:`set_aside`: keep the new target (old deleted) or restore the old one."""
    _cleanup(stage)


def _commit(stage: _Stage, built: Path) -> None:
    raise_if_pending()  # an interruption swallowed by a destructor still discards the output
    target = stage.target
    if os.path.lexists(target):
        if built.is_dir() and target.is_dir():  # keep the replaced folder's permissions
            os.chmod(built, target.stat().st_mode & 0o7777)
        os.replace(target, stage.tmp / REPLACED)
    os.replace(built, target)
    stage.done = True
