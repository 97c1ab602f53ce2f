"""The DDS socket receive buffer the launch file asks for (no rclpy).

A 512x512 frame with its labels is a burst of about 2 MB of UDP datagrams (a 32FC1 depth
image alone is 1 MB, about 72 datagrams). Cyclone DDS asks the kernel for a 1 MiB socket
receive buffer by default, so when the translator's process is starved of CPU the kernel
drops datagrams and whole messages are lost. ``translate.launch.py`` therefore starts the
translator with ``CYCLONEDDS_URI`` asking for ``receive_buffer_mb`` (launch parameter),
but only when the user set no ``CYCLONEDDS_URI`` of their own. The request uses Cyclone's
``max`` attribute (ask for this much, accept what the kernel gives), never ``min`` (which
makes Cyclone refuse to start where the kernel allows less). Linux caps the buffer at
``net.core.rmem_max`` (208 KiB on a stock Ubuntu): raise it to profit
(``sudo sysctl -w net.core.rmem_max=8388608``). Other middlewares ignore the variable.

Example:
    >>> env, note = receive_buffer_env({}, 8, rmem_max=4 * 2**20)
    >>> env["CYCLONEDDS_URI"]
    '<CycloneDDS><Domain id="any"><Internal><SocketReceiveBufferSize min="default" max="8MiB"/></Internal></Domain></CycloneDDS>'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

URI_VAR = "CYCLONEDDS_URI"
RMEM_MAX = Path("/proc/sys/net/core/rmem_max")
CYCLONE_RMW = "rmw_cyclonedds_cpp"


def cyclone_receive_buffer_xml(megabytes: int) -> str:
    """Cyclone DDS configuration asking for ``megabytes`` MiB socket receive buffers."""
    if not isinstance(megabytes, int) or isinstance(megabytes, bool) or megabytes <= 0:
        raise ValueError(f"receive_buffer_mb: expected a positive integer, got {megabytes!r}")
    return ('<CycloneDDS><Domain id="any"><Internal><SocketReceiveBufferSize min="default" '
            f'max="{megabytes}MiB"/></Internal></Domain></CycloneDDS>')


def kernel_rmem_max(path: Path = RMEM_MAX) -> int | None:
    """``net.core.rmem_max`` in bytes, or None where it cannot be read (not Linux)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def receive_buffer_env(env: Mapping[str, str], megabytes: int,
                       rmem_max: int | None = None) -> tuple[dict[str, str], str]:
    """Environment to add to the translator's process and one line saying what was done.

    ``megabytes`` 0 leaves the middleware's default; a ``CYCLONEDDS_URI`` already in
    ``env`` is left as it is (the user's configuration wins). ``rmem_max`` (bytes, e.g.
    :func:`kernel_rmem_max`) adds a hint when the kernel caps the request.
    """
    if megabytes == 0:
        return {}, "DDS receive buffer: middleware default (receive_buffer_mb 0)"
    if env.get(URI_VAR):
        return {}, (f"DDS receive buffer: {URI_VAR} is set, left as it is (receive_buffer_mb "
                    f"{megabytes} not applied)")
    rmw = env.get("RMW_IMPLEMENTATION", "")
    note = f"DDS receive buffer: asking Cyclone DDS for {megabytes} MiB ({URI_VAR})"
    if rmw and rmw != CYCLONE_RMW:
        note += f"; RMW_IMPLEMENTATION is {rmw}, which ignores it"
    if rmem_max is not None and rmem_max < megabytes * 2**20:
        note += (f"; the kernel caps it at {rmem_max / 2**20:.2f} MiB (net.core.rmem_max): "
                 f"sudo sysctl -w net.core.rmem_max={megabytes * 2**20}")
    return {URI_VAR: cyclone_receive_buffer_xml(megabytes)}, note
