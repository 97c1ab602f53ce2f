"""Per-sequence cache folders (estimated flow, estimated disparity): built once, shared."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def build_cache_dir(folder: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``folder`` to fill; on success it is renamed to
    ``folder``, unless another process published the same entry first (then it is dropped:
    a cache key names one content). Removed on any failure or interrupt."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield tmp
        if folder.exists():
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
