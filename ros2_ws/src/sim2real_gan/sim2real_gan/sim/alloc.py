"""Opt-in allocator tuning for numpy-heavy loops (glibc only).

The simulator makes many short-lived full-frame temporaries. With glibc's defaults the
freed memory is often handed back to the kernel and faulted in again on the next frame,
which costs 20-50 % of the frame time (measured: 256x256 sim frames 23 -> 14 ms CPU,
640x512 258 -> 114 ms wall on the 2-core dev VM). :func:`retain_freed_memory` asks malloc to
keep freed memory for reuse instead. It changes the whole process, so it is never called
on import or by library constructors: entry points call it explicitly (``simulate``,
``benchmarks/bench_sim.py``); long-running users (a node, a trainer) may do the same.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def retain_freed_memory(mmap_threshold: int = 64 << 20, trim_threshold: int = 512 << 20) -> bool:
    """Make glibc malloc serve blocks below ``mmap_threshold`` bytes from its heap and keep
    up to ``trim_threshold`` bytes of freed heap instead of returning them to the OS.

    Returns True if applied, False where it does not apply (not Linux/glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # e.g. musl without mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    return mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1 and ok
