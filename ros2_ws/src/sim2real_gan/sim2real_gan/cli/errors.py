"""One line per failure, and the exit status, for the ``sim2real-gan`` top-level handler.

Exit status: 0 success; 1 the command ran but its result is not acceptable (the command
says why); 2 bad input, arguments or environment (one line ``sim2real-gan: error: ...``);
128 + signal for an interruption (130 SIGINT, 143 SIGTERM, 129 SIGHUP). Set ``--debug`` or
``SIM2REAL_GAN_DEBUG=1`` to also get the traceback.
"""

from __future__ import annotations

import errno
import os

from sim2real_gan.io.interrupt import Interrupted, exit_code
from sim2real_gan.io.staging import public_path

EXIT_ERROR = 2
DEBUG_ENV = "SIM2REAL_GAN_DEBUG"
#: exceptions that describe bad input or environment; anything else is a bug in the program
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError, RuntimeError,
                                                MemoryError, ImportError)
MAX_CHARS = 600


def debug_requested(flag: bool = False) -> bool:
    """``--debug`` or ``SIM2REAL_GAN_DEBUG`` set to anything but '', '0'."""
    return flag or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def one_line(text: str) -> str:
    """Collapse a message to a single line of at most :data:`MAX_CHARS` characters."""
    line = " | ".join(p.strip() for p in str(text).splitlines() if p.strip())
    return line if len(line) <= MAX_CHARS else line[:MAX_CHARS - 3] + "..."


def _os_error(exc: OSError) -> str:
    if exc.filename is None:
        return str(exc)
    what = {errno.ENOSPC: "no space left on device", errno.EACCES: "permission denied",
            errno.EROFS: "read-only file system", errno.EDQUOT: "disk quota exceeded"}.get(
        exc.errno or 0, (exc.strerror or type(exc).__name__).lower())
    where = public_path(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {public_path(exc.filename2)}"
    return f"{what}: {where}"


def describe(exc: BaseException) -> tuple[int, str]:
    """(exit status, one-line message) for an exception that ended a command."""
    if isinstance(exc, KeyboardInterrupt):
        name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        return exit_code(exc), f"interrupted by {name}; partial output removed"
    if isinstance(exc, OSError) and exc.filename is not None:
        return EXIT_ERROR, one_line(_os_error(exc))
    if isinstance(exc, MemoryError):
        return EXIT_ERROR, one_line(f"out of memory {exc}".strip())
    if isinstance(exc, USER_ERRORS):
        return EXIT_ERROR, one_line(str(exc) or type(exc).__name__)
    return EXIT_ERROR, one_line(f"internal error {type(exc).__name__}: {exc} (a bug: rerun "
                                f"with --debug or {DEBUG_ENV}=1 and report the traceback)")
