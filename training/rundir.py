"""The run folder: created only when training starts (after every check and the expensive
set-up), and removed again - only what this process created - when the run fails before
its first checkpoint, so a failed run leaves no empty folder (parents included)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sim2real_gan.models.checkpoint import atomic_write_text


class RunDir:
    """``create()`` makes ``path`` and its missing parents; ``write_text`` / ``track``
    record what is new; ``discard()`` removes exactly that, newest first."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._new: list[Path] = []

    def track(self, path: Path) -> Path:
        """Remember ``path`` (a file or folder about to be made) when it does not exist yet."""
        if not path.exists() and not path.is_symlink():
            self._new.append(path)
        return path

    def create(self) -> Path:
        missing = []
        p = self.path.absolute()
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            self.track(d)
            d.mkdir()
        return self.path

    def write_text(self, name: str, text: str) -> Path:
        path = self.track(self.path / name)
        atomic_write_text(path, text)
        return path

    def has_checkpoint(self) -> bool:
        return (self.path / "checkpoints" / "latest").is_file()

    def discard(self) -> None:
        """Remove what this process created (a folder it made holds only its own files)."""
        for p in reversed(self._new):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        self._new.clear()
