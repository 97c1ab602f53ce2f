"""SIGINT / SIGTERM / SIGHUP during training: checkpoint, then a clean exit (130 / 143 /
129).

Inside :meth:`StopSignal.deferred` (the training loop) a signal only records itself; the
trainer finishes the step, writes a checkpoint (rank 0; all ranks agree on the step under
torchrun) and raises :class:`Interrupted`. Outside it (data loading, segmenter training:
nothing to save yet) the signal raises :class:`Interrupted` at once. A second signal always
stops at once. The command layer turns Interrupted into one message and the exit code.
A signal the process inherited as ignored (``nohup``, a background job) stays ignored.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from sim2real_gan.io.interrupt import SIGNALS
from sim2real_gan.io.interrupt import Interrupted as SignalInterrupted

from .distributed import launched_rank

log = logging.getLogger("sim2real_gan.train")


class Interrupted(SignalInterrupted):
    """A stop signal ended the run; ``checkpoint`` is the step directory written for it
    (None before training started). The command layer's interruption (a KeyboardInterrupt,
    ``exit_code`` 128 + signal), so ``except Exception`` never swallows it."""

    def __init__(self, signum: int, checkpoint: Path | None = None, step: int = 0) -> None:
        super().__init__(signum)
        self.checkpoint, self.step = checkpoint, step


class StopSignal:
    """Context manager installing the handlers (main thread only; restored on exit)."""

    def __init__(self) -> None:
        self.signum = 0
        self._defer = False
        self._old: dict[int, object] = {}
        self._verbose = launched_rank() == 0

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                if signal.getsignal(s) is not signal.SIG_IGN:
                    self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)  # type: ignore[arg-type]
        self._old.clear()

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Signals inside only set :attr:`signum` (checked by the loop after each step)."""
        self._defer = True
        try:
            yield
        finally:
            self._defer = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._defer and not self.signum:
            self.signum = signum
            if self._verbose:
                log.warning("%s: finishing this step, writing a checkpoint, then stopping "
                            "(send it again to stop at once)", signal.Signals(signum).name)
            return
        raise Interrupted(signum)


def ignore_sigint_in_worker(_: int) -> None:
    """DataLoader ``worker_init_fn``: a terminal's Ctrl-C reaches the whole process group;
    workers leave it to the main process, which stops them after its checkpoint."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
