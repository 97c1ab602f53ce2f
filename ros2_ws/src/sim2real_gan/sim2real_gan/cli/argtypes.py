"""argparse ``type=`` functions shared by the commands: bad values fail at parse time.

Each raises ``argparse.ArgumentTypeError`` with what was expected and what arrived, so
argparse prints ``sim2real-gan CMD: error: argument --X: ...`` and exits 2 before any
work starts.

Example:
    >>> duration_ms("250")
    250.0
    >>> duration_ms("inf")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected a finite number of milliseconds >= 0, got 'inf'
"""

from __future__ import annotations

import argparse
import math
import os


def cpu_count() -> int:
    """Cores of this machine (``os.cpu_count()``, 1 when unknown)."""
    return os.cpu_count() or 1


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def _finite(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def thread_count_problem(n: object, allow_zero: bool = False,
                         arrived: str | None = None) -> str | None:
    """The one thread-count rule (CLI flags, the training recipe's ``threads``, the node's
    ``threads`` parameter): an integer within 1..os.cpu_count(), or 0 (the library's
    default) when ``allow_zero``. Returns None when ``n`` passes, else what was expected
    and what arrived (``arrived``: the text as typed, default ``repr(n)``)."""
    low, top = (0 if allow_zero else 1), cpu_count()
    if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= top:
        zero = " (0 = the library's default)" if allow_zero else ""
        return (f"expected a thread count within {low}..{top} (this machine's cores){zero}, "
                f"got {arrived or repr(n)}")
    return None


def check_thread_count(n: object, what: str, allow_zero: bool = False) -> int:
    """:func:`thread_count_problem` for a non-CLI value; raises ValueError ``what: ...``."""
    problem = thread_count_problem(n, allow_zero)
    if problem is not None:
        raise ValueError(f"{what}: {problem}")
    return n  # type: ignore[return-value]  # an int, checked above


def _thread_arg(text: str, allow_zero: bool) -> int:
    n = _int(text, "an integer number of threads")
    problem = thread_count_problem(n, allow_zero, arrived=repr(text))
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return n


def threads(text: str) -> int:
    """CPU threads: an integer within 1..os.cpu_count()."""
    return _thread_arg(text, allow_zero=False)


def threads_or_zero(text: str) -> int:
    """CPU threads, or 0 = leave the library's default: an integer within 0..os.cpu_count()."""
    return _thread_arg(text, allow_zero=True)


def duration_ms(text: str) -> float:
    """A time in milliseconds: finite and >= 0 (``inf``, ``nan`` and negatives are refused)."""
    what = "a finite number of milliseconds >= 0"
    value = _finite(text, what)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A duration in seconds: finite and > 0."""
    what = "a finite number of seconds > 0"
    value = _finite(text, what)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (rates such as --fps)."""
    value = _finite(text, "a finite number > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (tolerances)."""
    value = _finite(text, "a finite number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A share: a finite number within 0..1 (``--max-drop-fraction``)."""
    what = "a number within 0..1"
    value = _finite(text, what)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (counts)."""
    n = _int(text, "an integer >= 1")
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return n


def non_negative_int(text: str) -> int:
    """An integer >= 0 (counts where 0 means off)."""
    n = _int(text, "an integer >= 0")
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return n
