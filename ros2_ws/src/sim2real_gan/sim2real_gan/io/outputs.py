"""Where a command may write: the ``--force`` rule shared by every writing command.

A command never deletes or overwrites what it did not write itself:

- OUT must not be an input, contain an input, or lie inside one (``translate-bag p/in p``,
  ``export proj/ckpt proj``, ``translate-bag in in/sub`` are refused before anything runs);
- an existing OUT is replaced only with ``--force`` and only when it is a previous output of
  the *same* command, recognised by what that command leaves in it (:data:`RULES`): the
  marker file :data:`MARKER` listing every file written (translate-bag, simulate, demo,
  evaluate), the artifact's ``model.json`` (export; ``training.ship`` also updates an
  artifact's generator files), or the run layout (train, see :mod:`sim2real_gan.io.run_dir`). A previous
  output that holds any other file is not replaced: the user put something there;
- an empty folder counts as free.

The output itself is built through :func:`sim2real_gan.io.staging.atomic_path` (temporary
sibling, rename, cleanup of everything created on failure or interruption).

Example:
    >>> with staged_output(out, "translate-bag", inputs=[bag], force=args.force) as path:
    ...     translate_bag(bag, path, step, cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sim2real_gan.io.staging import OutputError, atomic_path

MARKER = ".sim2real_gan-output.json"
MARKER_FORMAT = "sim2real_gan.output/1"
#: top-level entries of a training run directory (training/trainer.py writes them)
RUN_ENTRIES = frozenset({"checkpoints", "tb", "train_config.json", MARKER})

PathLike = str | os.PathLike


def write_marker(folder: Path, command: str, track_files: bool = True) -> None:
    """Write :data:`MARKER` into ``folder``: the command and (optionally) every file under it."""
    doc: dict = {"format": MARKER_FORMAT, "command": command}
    if track_files:
        doc["files"] = sorted(_files(folder))
    (folder / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _files(folder: Path) -> set[str]:
    """Relative POSIX paths of every non-directory entry under ``folder`` except the marker."""
    out = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            out.add((rel / name).as_posix())
    out.discard(MARKER)
    return out


def read_marker(folder: Path) -> dict | None:
    """The marker document of ``folder``, or None when there is none (or it is unreadable)."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == MARKER_FORMAT else None


def _others(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _marked(folder: Path, command: str) -> str | None:
    """None when ``folder`` is ``command``'s output with nothing added; else why it is not."""
    doc = read_marker(folder)
    if doc is None:
        return f"it has no {MARKER} marker"
    if doc.get("command") != command:
        return f"it is a {doc.get('command')} output"
    extra = _files(folder) - set(doc.get("files") or ())
    return f"it also holds {_others(extra)}" if extra else None


def _artifact(folder: Path, command: str) -> str | None:
    """A model artifact: model.json of our format and no sub-folder (export keeps files only)."""
    from sim2real_gan.artifact.registry import FORMAT_NAME, MANIFEST_FILE

    try:
        doc = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"it has no readable {MANIFEST_FILE}"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return f"its {MANIFEST_FILE} is not a {FORMAT_NAME} manifest"
    subdirs = [p.name for p in folder.iterdir() if p.is_dir()]
    return f"it also holds the folder(s) {_others(subdirs)}" if subdirs else None


def _model_dir(folder: Path, command: str) -> str | None:
    """``training.ship``'s target: a model artifact (its generator files are replaced, the
    rest kept) or a previous ship output (marker, nothing added)."""
    from sim2real_gan.artifact.registry import MANIFEST_FILE

    if (folder / MANIFEST_FILE).exists():
        return _artifact(folder, command)
    return _marked(folder, command)


def recognise_run(folder: Path, command: str) -> str | None:
    """A training run: marker or train_config.json/checkpoints, and only the run's entries."""
    doc = read_marker(folder)
    if doc is not None and doc.get("command") != command:
        return f"it is a {doc.get('command')} output"
    names = {p.name for p in folder.iterdir()}
    if doc is None and not names & {"train_config.json", "checkpoints"}:
        return "it has no train_config.json or checkpoints/"
    extra = names - RUN_ENTRIES
    return f"it also holds {_others(extra)}" if extra else None


@dataclass(frozen=True)
class OutputRule:
    """How a command recognises its own previous output."""

    command: str
    what: str
    recognise: Callable[[Path, str], str | None]  # None = ours; else the reason it is not
    marker: bool  # write MARKER (with the file list) into each new output


RULES: dict[str, OutputRule] = {
    "translate-bag": OutputRule("translate-bag", "bag", _marked, True),
    "simulate": OutputRule("simulate", "simulated sequence", _marked, True),
    "demo": OutputRule("demo", "demo folder", _marked, True),
    "evaluate": OutputRule("evaluate", "evaluation report", _marked, True),
    "dump": OutputRule("dump", "frame dump", _marked, True),
    "export": OutputRule("export", "model artifact", _artifact, False),
    "ship": OutputRule("ship", "model folder", _model_dir, False),  # marks non-artifacts
    "train": OutputRule("train", "training run", recognise_run, False),
}


def resolved(p: PathLike) -> Path:
    """``p`` with symbolic links and ``..`` resolved (it need not exist)."""
    return Path(os.path.realpath(p))


def is_inside(child: Path, parent: Path) -> bool:
    """``child`` lies strictly below ``parent`` (both resolved)."""
    return child != parent and parent in child.parents


def check_relations(out: PathLike, inputs: Iterable[PathLike | None], flag: str = "OUT",
                    same_ok: Iterable[PathLike] = ()) -> None:
    """Refuse an OUT that is an input, contains one, or lies inside one.

    Raises:
        OutputError: naming OUT, the input and the relation.
    """
    o = resolved(out)
    allowed = {resolved(p) for p in same_ok}
    for given in inputs:
        if given is None:
            continue
        i = resolved(given)
        if o == i and i not in allowed:
            raise OutputError(f"{flag} {out} is the input {given}; write somewhere else")
        if is_inside(i, o):
            raise OutputError(f"{flag} {out} contains the input {given}; writing there could "
                              "destroy it, choose a path outside it")
        if is_inside(o, i):
            raise OutputError(f"{flag} {out} lies inside the input {given}; choose a path "
                              "outside it")


def is_empty_dir(p: Path) -> bool:
    """A real folder (not a link) with nothing in it."""
    return p.is_dir() and not p.is_symlink() and not any(p.iterdir())


def check_output(out: PathLike, command: str, inputs: Iterable[PathLike | None] = (),
                 force: bool = False, in_place_ok: bool = False) -> bool:
    """Apply the ``--force`` rule to ``out``; return True when an existing OUT will be replaced.

    ``in_place_ok``: OUT may be the (only) input when it is a previous output of ``command``
    (``export models/default models/default --force`` re-exports an artifact in place).

    Raises:
        OutputError: the one-line reason (nothing has been touched).
    """
    rule, path = RULES[command], Path(out)
    inputs = list(inputs)
    same = [p for p in inputs if p is not None and resolved(p) == resolved(path)] if in_place_ok else []
    check_relations(path, inputs, same_ok=same)
    if not os.path.lexists(path):
        return False
    if path.is_symlink():
        raise OutputError(f"{path} is a symbolic link; {command} does not replace links, "
                          "choose another path")
    if is_empty_dir(path):
        return True
    reason = rule.recognise(path, command) if path.is_dir() else "it is a file"
    if reason:
        raise OutputError(f"{path} exists and is not a previous {command} {rule.what} "
                          f"({reason}); {command} only replaces its own outputs: remove it "
                          "yourself or choose another path")
    if not force:
        raise OutputError(f"{path} already exists (a previous {command} {rule.what}); use "
                          "--force to replace it")
    return True


def check_file_output(path: PathLike, command: str, force: bool, suffix: str,
                      beside: PathLike | None = None) -> None:
    """The rule for a single-file output (``simulate --preview``, ``bench --json``): a file
    carries no marker, so an existing one is replaced only with ``--force`` and only when it
    is a regular ``suffix`` file; it must not lie inside (or be) the folder output ``beside``.

    Raises:
        OutputError: the one-line reason.
    """
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise OutputError(f"{p}: expected a {suffix} file name")
    if beside is not None and (resolved(p) == resolved(beside) or is_inside(resolved(p), resolved(beside))):
        raise OutputError(f"{p} lies inside the output {beside}; write it beside it")
    if not os.path.lexists(p):
        return
    if p.is_symlink() or not p.is_file():
        raise OutputError(f"{p} exists and is not a {suffix} file; {command} does not replace "
                          "it: remove it yourself or choose another path")
    if not force:
        raise OutputError(f"{p} already exists; use --force to replace it")


@contextmanager
def staged_output(out: PathLike, command: str, inputs: Iterable[PathLike | None] = (),
                  force: bool = False, in_place_ok: bool = False) -> Iterator[Path]:
    """Check ``out`` (:func:`check_output`) and yield the path to build it at (not yet
    existing); on success the command's marker is added and it is renamed to ``out``."""
    replace = check_output(out, command, inputs, force, in_place_ok)
    with atomic_path(out, replace=replace) as built:
        yield built
        if RULES[command].marker and built.is_dir():
            write_marker(built, command)
