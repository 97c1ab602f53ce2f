"""Process entry helper shared by the nodes: init, spin, clean exit on Ctrl-C / SIGTERM.

Jazzy's rclpy turns SIGINT/SIGTERM into a context shutdown (``spin`` raises
``ExternalShutdownException``) and may also deliver a ``KeyboardInterrupt``, possibly while the
node is already being torn down. Its signal thread shuts the context down while ``spin`` may
be between two waits, so ``spin`` can also raise ``RCLError`` ("failed to initialize wait
set: the given context is not valid") or, while taking a message from a subscription whose
handle the shutdown is destroying, ``RuntimeError`` ("Unable to convert call argument");
either counts as the shutdown only when the context is indeed gone, else it is raised. Once one of them arrived, further SIGINTs are
ignored so the teardown (stop threads, destroy the node) always completes and the process
exits 0.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.executors import ExternalShutdownException


def run_node(make_node: Callable[[], Any], start: Callable[[Any], int] | None = None,
             stop: Callable[[Any], None] | None = None, args: list[str] | None = None) -> int:
    """Create the node, ``start(node)`` (non-zero return = exit code, no spin), spin.

    ``stop(node)`` runs before the node is destroyed, also after an interrupt.
    """
    node = None
    code = 0
    try:
        rclpy.init(args=args)
        node = make_node()
        code = start(node) if start is not None else 0
        if code == 0:
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (RCLError, RuntimeError):
        if rclpy.ok():  # not the shutdown race: a real failure
            raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut teardown
        if node is not None:
            if stop is not None:
                stop(node)
            node.destroy_node()
        rclpy.try_shutdown()
    return code
