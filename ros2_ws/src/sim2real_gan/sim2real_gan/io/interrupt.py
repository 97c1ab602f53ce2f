"""SIGINT, SIGTERM and SIGHUP as an exception, so ``finally`` blocks remove partial output.

``timeout``, ``docker stop`` and a cancelled CI job send SIGTERM; closing a terminal sends
SIGHUP. By default both kill Python without running ``finally`` blocks or ``with`` exits,
which left half-written temporary directories behind. Inside :func:`interrupt_guard` each of
the three signals raises :class:`Interrupted` in the main thread instead; it subclasses
``KeyboardInterrupt``, so ``except Exception`` never swallows it and code that already
handles Ctrl-C (the trainer's "save a checkpoint, then stop") handles all three alike.

The exit status is ``128 + signal number``: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).
A signal the process inherited as *ignored* (``nohup``, a background job) stays ignored.
Once one signal has been raised, later ones are ignored, so a second Ctrl-C cannot cut the
cleanup of the first short.

Python runs a signal handler between two bytecodes of the main thread, which may be inside a
``__del__`` method or a weakref callback (the import system's module locks use one); an
exception raised there is not propagated but handed to ``sys.unraisablehook``. The guard
catches that case: the interruption is kept *pending* and delivered again shortly after
(``_thread.interrupt_main``), and :func:`raise_if_pending` (called before an output is
renamed into place) raises it at the latest, so a swallowed signal can neither be lost nor
let a half-interrupted run publish its output.

Example:
    >>> with interrupt_guard():                 # doctest: +SKIP
    ...     try:
    ...         long_job()
    ...     except Interrupted as exc:
    ...         save_state(); raise             # exits with exc.exit_code via the CLI
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when SIGINT, SIGTERM or SIGHUP arrives.

    Attributes:
        signum: the signal number; ``exit_code`` is ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"interrupted by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: BaseException) -> int:
    """Exit status for an interruption: 128 + signal number (130 for a plain Ctrl-C)."""
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


@dataclass
class _State:
    active: bool = False
    raised: bool = False  # an Interrupted was raised; later signals are ignored
    pending: int | None = None  # a raised Interrupted was swallowed: deliver it again


_STATE = _State()
REDELIVER_S = 0.05  # time for the main thread to leave the context that swallowed it


def raise_if_pending() -> None:
    """Raise the interruption a ``__del__``/callback swallowed, if any (see module doc)."""
    sig = _STATE.pending
    if sig is not None:
        _STATE.pending, _STATE.raised = None, True
        raise Interrupted(sig)


def _handler(signum: int, frame: Any) -> None:
    if _STATE.raised:  # already unwinding: let the cleanup finish
        return
    _STATE.raised, _STATE.pending = True, None
    raise Interrupted(signum)


def _redeliver() -> None:
    sig = _STATE.pending
    if sig is not None:
        _thread.interrupt_main(sig)


def _unraisable_hook(previous: Any) -> Any:
    def hook(info: Any) -> None:
        if _STATE.active and isinstance(info.exc_value, Interrupted):
            _STATE.raised, _STATE.pending = False, info.exc_value.signum
            timer = threading.Timer(REDELIVER_S, _redeliver)
            timer.daemon = True
            timer.start()
            return
        previous(info)
    return hook


@contextmanager
def interrupt_guard() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into :class:`Interrupted` for the duration of the block.

    Outside the main thread (where Python cannot install handlers) this does nothing.
    The previous handlers are restored on exit.
    """
    if threading.current_thread() is not threading.main_thread() or _STATE.active:
        yield
        return
    previous = {}
    for sig in SIGNALS:
        old = signal.getsignal(sig)
        if old == signal.SIG_IGN:
            continue
        previous[sig] = old
        signal.signal(sig, _handler)
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable_hook(hook)
    _STATE.active, _STATE.raised, _STATE.pending = True, False, None
    try:
        yield
        raise_if_pending()
    finally:
        _STATE.active, _STATE.pending = False, None
        sys.unraisablehook = hook
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
