"""Overload run of translator_node on a real ROS 2 graph (issue 10, item 7).

A publisher process sends, at ``--rate`` Hz with ``--pub-qos`` (reliable keep-last 10 by
default, what ros_gz_bridge does), a ``--size`` rgb8 ``image_raw``, ``camera_info``, a
``segmentation`` (mono8 class ids, or ``--seg-encoding rgb8`` like Gazebo's labels_map) and
a 32FC1 ``depth`` (1 MB at 512x512), all four with the same stamp (wall clock at send).
The translator node runs in its own process, unchanged (``TranslatorNode``, the node's
defaults plus ``--node-param``), with a 1 Hz report of its synchroniser counters (messages
received per input, frames published / dropped by reason). This process is the probe: it
subscribes (reliable) to the node's output, and with ``--control`` also to the inputs with
the node's subscription QoS, as a separate subscriber. Each run prints one table row:

* output rate per 10 s window and latency p50/p99 (probe receive time - input stamp),
* per input: messages the publisher sent, the node received, the control subscriber got,
* whether an input went silent in the node (no message for ``--silent-s`` while images
  still arrived) and when, the node's frame drops by reason, its RSS at start and end,
* output labels / camera_info whose stamp the probe never saw on an output image, next to
  the images the probe got of those the node published (the node publishes keep-last
  ``queue_depth``, so a label without its image means the probe lost that image, or a bug),
* the node's own input warnings (an input that went silent / resumed, incompatible QoS),
  the QoS it chose per input, and per input the messages received per second.

``--variant LABEL [NAME:=VALUE ...]`` (repeatable) compares configurations in interleaved
rounds (one run of each per round, so load changes hit all): node parameters, plus
``receive_buffer_mb:=N`` (the node's process gets the ``CYCLONEDDS_URI`` that
``translate.launch.py`` would set, through the same ``sim2real_gan.node.dds_env``) and
``pub_qos:=best_effort``. The analysis and tables are in ``ros_overload_report.py``.

Run with ROS 2 sourced (before any ``set -u``), e.g. the stack in /work/ros2 (USAGE.md)::

    .venv/bin/python benchmarks/ros_overload.py --runs 4 --duration 60 --out /tmp/ovl.json
    .venv/bin/python benchmarks/ros_overload.py --runs 4 --node-param qos:=reliable
    .venv/bin/python benchmarks/ros_overload.py --runs 5 --no-control \\
        --variant old qos:=sensor_data --variant run --variant launch receive_buffer_mb:=8

``publish`` and ``node`` are the roles this script starts as subprocesses.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ros_overload_report import INPUTS, NS, analyse, node_warnings, percentiles, summary, table

OUT_NS = "/realistic/camera"
PSEUDO = ("receive_buffer_mb", "pub_qos")  # variant settings that are not node parameters


@dataclass(frozen=True)
class Variant:
    """One configuration: node parameters, the DDS receive buffer the launch file would ask
    for the node (``receive_buffer_mb``, 0 = none) and the publisher's QoS."""

    label: str
    node_params: tuple[str, ...]
    receive_buffer_mb: int
    pub_qos: str

    @classmethod
    def parse(cls, words: list[str], pub_qos: str) -> Variant:
        """``LABEL [NAME:=VALUE ...]``; ``receive_buffer_mb`` and ``pub_qos`` are taken
        here, every other NAME:=VALUE goes to the node."""
        label, *params = words
        settings = {"receive_buffer_mb": "0", "pub_qos": pub_qos}
        node = []
        for p in params:
            name, sep, value = p.partition(":=")
            if not sep or not name:
                raise SystemExit(f"--variant {label}: expected NAME:=VALUE, got {p!r}")
            if name in PSEUDO:
                settings[name] = value
            else:
                node.append(p)
        if settings["pub_qos"] not in ("reliable", "best_effort"):
            raise SystemExit(f"--variant {label}: pub_qos must be reliable or best_effort, got "
                             f"{settings['pub_qos']!r}")
        try:
            mb = int(settings["receive_buffer_mb"])
        except ValueError:
            raise SystemExit(f"--variant {label}: receive_buffer_mb must be an integer, got "
                             f"{settings['receive_buffer_mb']!r}") from None
        return cls(label, tuple(node), mb, settings["pub_qos"])


def _qos(reliable: bool, depth: int) -> Any:
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      durability=DurabilityPolicy.VOLATILE,
                      reliability=(ReliabilityPolicy.RELIABLE if reliable
                                   else ReliabilityPolicy.BEST_EFFORT))


def _emit(tag: str, payload: dict[str, Any]) -> None:
    """One tagged JSON line on stdout in one write (the ROS logger shares the pipe)."""
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), f"{tag} {json.dumps(payload)}\n".encode())


# ---- role: publisher ---------------------------------------------------------------------
def _frames(size: int, count: int, seg_encoding: str) -> list[dict[str, Any]]:
    """``count`` simulator frames as prebuilt messages {topic: msg} (headers set per send)."""
    from sim2real_gan.io.image_codec import numpy_to_image_fields
    from sim2real_gan.node.ros_messages import image_msg
    from sim2real_gan.node.synthetic_camera_node import camera_info
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator
    from std_msgs.msg import Header

    sim = EndoscopeSimulator(SimConfig(width=size, height=size, appearances=("sim",)), seed=3)
    out = []
    for frame in sim.frames(count):
        header = Header(frame_id="endoscope_optical_frame")
        labels = frame.labels if seg_encoding == "mono8" else np.repeat(
            frame.labels[:, :, None], 3, axis=2)
        out.append({
            "image_raw": image_msg(numpy_to_image_fields(frame.image("sim"), "rgb8"), header),
            "camera_info": camera_info(frame.K, size, size, header),
            "segmentation": image_msg(numpy_to_image_fields(labels, seg_encoding), header),
            "depth": image_msg(numpy_to_image_fields(frame.depth.astype(np.float32), "32FC1"),
                               header),
        })
    return out


def publish_role(args: argparse.Namespace) -> int:
    """Send frames at ``args.rate`` until SIGINT; report counts and publish() durations."""
    import rclpy
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import CameraInfo, Image

    # the orchestrator's SIGINT only ends the loop: rclpy's own handler would shut the
    # context down under a publish() (and raise again inside the handling)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    rclpy.init(args=["ros_overload_publish"],  # not sys.argv: no ROS arguments there
               signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("overload_camera")
    qos = _qos(args.pub_qos == "reliable", 10)
    pubs = {t: node.create_publisher(CameraInfo if t == "camera_info" else Image,
                                     f"{NS}/{t}", qos) for t in INPUTS}
    frames = _frames(args.size, args.frames, args.seg_encoding)
    period_ns = int(1e9 / args.rate)
    sent_at: list[int] = []
    call_ms: dict[str, list[float]] = {t: [] for t in INPUTS}
    missed = 0
    _emit("OVERLOAD_START", {"wall_ns": time.time_ns()})
    next_t = time.monotonic_ns()
    try:
        while rclpy.ok() and not stop.is_set():
            msgs = frames[len(sent_at) % len(frames)]
            stamp = time.time_ns()
            for topic in INPUTS:
                msgs[topic].header.stamp.sec, msgs[topic].header.stamp.nanosec = divmod(
                    stamp, 1_000_000_000)
                t = time.perf_counter()
                pubs[topic].publish(msgs[topic])
                call_ms[topic].append((time.perf_counter() - t) * 1e3)
            sent_at.append(stamp)
            next_t += period_ns
            late = time.monotonic_ns() - next_t
            if late > period_ns:  # publishing fell behind: skip slots, as a camera would
                missed += late // period_ns
                next_t += (late // period_ns) * period_ns
            stop.wait(max(0.0, (next_t - time.monotonic_ns()) / 1e9))
    except Exception:  # publish() after the context was shut down from elsewhere
        if rclpy.ok():
            raise
    _emit("OVERLOAD_PUBLISHER", {
        "sent_at_ns": sent_at, "missed_slots": int(missed),
        "publish_ms": {t: percentiles(v) for t, v in call_ms.items()}})
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


# ---- role: translator node ---------------------------------------------------------------
def node_role(ros_args: list[str]) -> int:  # ros_args: ["--ros-args", "-p", ...] or []
    """``TranslatorNode`` as ``ros2 run`` starts it, plus a 1 Hz JSON report of its counters."""
    from sim2real_gan.node.runner import run_node
    from sim2real_gan.node.translator_node import TranslatorNode

    def report(node: Any) -> None:
        if node.sync is None:
            return
        snap = node.sync.snapshot()
        inputs = node.monitor.snapshot() if node.monitor is not None else []
        _emit("OVERLOAD_NODE", {"wall_ns": time.time_ns(), "received": snap.received,
                                "published": snap.published, "frame_drops": snap.frame_drops,
                                "message_drops": snap.message_drops, "missing": snap.missing,
                                "silent_inputs": [i.name for i in inputs if i.silent],
                                "qos": node.inputs.summary() if node.inputs else ""})

    def start(node: Any) -> int:
        node.trigger_configure()
        if node.translator is None:
            return 1
        node.trigger_activate()
        node.create_timer(1.0, lambda: report(node))
        return 0

    def stop(node: Any) -> None:
        report(node)
        if node.worker is not None:
            node.worker.stop()

    return run_node(TranslatorNode, start, stop, ["translator_node", *ros_args])


# ---- probe + orchestration ---------------------------------------------------------------
def cdr_stamp_ns(data: bytes) -> int:
    """``header.stamp`` of a serialized (little-endian CDR) message whose first field is a
    std_msgs/Header, in ns."""
    if len(data) < 12 or data[:2] != b"\x00\x01":
        raise ValueError(f"expected a little-endian CDR message of >= 12 bytes, got "
                         f"{len(data)} bytes starting {bytes(data[:4])!r}")
    sec, nsec = struct.unpack_from("<iI", data, 4)
    return sec * 1_000_000_000 + nsec


@dataclass
class Probe:
    """Raw subscriptions on the node's output (and, with control, on its inputs)."""

    node: Any
    control_qos: str | None
    received: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (recv, stamp)
    _subs: list[Any] = field(default_factory=list)

    def start(self) -> None:
        from sensor_msgs.msg import CameraInfo, Image

        topics = [(f"out/{t}", f"{OUT_NS}/{t}", _qos(True, 10)) for t in INPUTS]
        if self.control_qos is not None:  # same QoS as the node's subscriptions (depth 1)
            reliable = self.control_qos == "reliable"
            topics += [(f"in/{t}", f"{NS}/{t}", _qos(reliable, 1)) for t in INPUTS]
        for key, topic, qos in topics:
            self.received[key] = []
            cls = CameraInfo if topic.endswith("camera_info") else Image
            self._subs.append(self.node.create_subscription(
                cls, topic, lambda d, k=key: self.received[k].append(
                    (time.time_ns(), cdr_stamp_ns(d))), qos, raw=True))

    def stop(self) -> None:
        for sub in self._subs:
            self.node.destroy_subscription(sub)
        self._subs = []


class Child:
    """A role subprocess in its own process group; its tagged JSON lines are collected."""

    def __init__(self, argv: list[str], log_path: Path | None,
                 env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, start_new_session=True,
                                     env={**os.environ, **(env or {})})
        self.tagged: dict[str, list[dict[str, Any]]] = {}
        self.lines: list[str] = []
        self.unparsed = 0  # tagged lines mangled by interleaved output (reported)
        self.active = threading.Event()
        self._log = open(log_path, "w") if log_path else None  # noqa: SIM115
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        decoder = json.JSONDecoder()
        for line in self.proc.stdout:
            if self._log:
                self._log.write(line)
            at = line.find("OVERLOAD_")
            if at < 0:
                self.lines.append(line.rstrip())
                if line.rstrip().endswith("]: active"):
                    self.active.set()
                continue
            tag, _, rest = line[at:].partition(" ")
            try:  # a log line of the child may have landed after it on the same line
                self.tagged.setdefault(tag, []).append(decoder.raw_decode(rest)[0])
            except ValueError:
                self.unparsed += 1
            if tag == "OVERLOAD_START":
                self.active.set()
        if self._log:
            self._log.close()
        self.active.set()  # exited: wake the waiter (it checks poll())

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGINT to the group, then SIGTERM / SIGKILL if it does not exit."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(timeout_s)
        return int(self.proc.wait())


def _start_child(role_argv: list[str], log_dir: Path | None, name: str,
                 timeout_s: float, env: dict[str, str] | None = None) -> Child:
    log = log_dir / f"{name}.log" if log_dir else None
    child = Child([sys.executable, __file__, *role_argv], log, env)
    if not child.active.wait(timeout_s) or child.proc.poll() is not None:
        code = child.stop()
        tail = "\n  ".join(child.lines[-15:])
        raise RuntimeError(f"{name} did not start (exit {code}); last lines:\n  {tail}")
    return child


def one_run(args: argparse.Namespace, probe_node: Any, index: int,
            variant: Variant) -> dict[str, Any]:
    """Start node, probe, publisher; measure ``args.duration`` s; stop all; analyse."""
    from sim2real_gan.node.dds_env import kernel_rmem_max, receive_buffer_env

    log_dir = None
    if args.log_dir:
        log_dir = Path(args.log_dir) / f"run{index}_{variant.label}"
        log_dir.mkdir(parents=True)  # an existing run folder is an error, never overwritten
    node_env, env_note = receive_buffer_env(os.environ, variant.receive_buffer_mb,
                                            kernel_rmem_max())
    node_argv = ["node", "--ros-args"] + [a for p in variant.node_params for a in ("-p", p)]
    node = _start_child(node_argv, log_dir, "node", args.start_timeout, node_env)
    probe = Probe(probe_node, args.control_qos if args.control else None)
    probe.start()
    pub = None
    try:
        rss0 = node.rss_mib()
        pub = _start_child(["publish", "--rate", str(args.rate), "--size", str(args.size),
                            "--frames", str(args.frames), "--seg-encoding", args.seg_encoding,
                            "--pub-qos", variant.pub_qos], log_dir, "publisher",
                           args.start_timeout)
        t0 = pub.tagged["OVERLOAD_START"][0]["wall_ns"]
        threading.Event().wait(max(0.0, args.duration - (time.time_ns() - t0) / 1e9))
        rss1 = node.rss_mib()
        t1 = time.time_ns()
    finally:
        pub_code = pub.stop() if pub is not None else None
        node_code = node.stop()
        probe.stop()
    result = analyse(t0, t1, pub.tagged["OVERLOAD_PUBLISHER"][0],
                     node.tagged.get("OVERLOAD_NODE", []), probe.received, args.silent_s)
    status = [ln for ln in node.lines if "published" in ln and "latency" in ln]
    result.update(run=index, variant=variant.label, rss_mib=[round(rss0, 1), round(rss1, 1)],
                  exit_codes=[pub_code, node_code], node_params=list(variant.node_params),
                  pub_qos=variant.pub_qos, receive_buffer=env_note,
                  node_warnings=node_warnings(node.lines), last_status=status[-1:],
                  load_avg=[round(x, 1) for x in os.getloadavg()],
                  unparsed_reports=node.unparsed + pub.unparsed)
    return result


def _variants(args: argparse.Namespace) -> list[Variant]:
    if not args.variant:  # one configuration: --node-param and --pub-qos
        return [Variant.parse(["node", *args.node_param], args.pub_qos)]
    if args.node_param:
        raise SystemExit("--node-param and --variant do not mix: put the parameters into "
                         "each --variant")
    variants = [Variant.parse(v, args.pub_qos) for v in args.variant]
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise SystemExit(f"--variant labels must differ, got {labels}")
    return variants


def run_role(args: argparse.Namespace) -> int:
    """Orchestrate ``args.runs`` rounds (each variant once per round, in the given order,
    so that load changes hit every variant), print the tables, write JSON to ``args.out``."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    variants = _variants(args)
    if args.out and Path(args.out).exists():
        raise SystemExit(f"--out {args.out} exists; give a new path (it is never overwritten)")
    if args.log_dir and Path(args.log_dir).exists():
        raise SystemExit(f"--log-dir {args.log_dir} exists; give a new folder")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ["ROS_DOMAIN_ID"] = str(args.domain_id)
    rclpy.init(args=["ros_overload"])  # not sys.argv: "qos:=reliable" is for the node
    probe_node = rclpy.create_node("overload_probe")
    executor = SingleThreadedExecutor()
    executor.add_node(probe_node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    results: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []  # runs whose node or publisher did not report
    try:
        for i in range(1, args.runs + 1):
            for variant in variants:
                try:
                    results.append(one_run(args, probe_node, i, variant))
                    print(table(results[-1:], args.control).splitlines()[-1], flush=True)
                except (RuntimeError, KeyError, IndexError) as exc:  # a child failed: say so
                    failed.append({"run": i, "variant": variant.label, "error": repr(exc)})
                    print(f"run {i} {variant.label} FAILED: {exc!r}", flush=True)
                if args.out:  # after every run: a session may end before the last one
                    _write_json(args.out, results + failed)
    finally:
        executor.shutdown()
        probe_node.destroy_node()
        rclpy.try_shutdown()
    load = os.getloadavg()
    print(f"\n{os.cpu_count()} CPUs, load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; "
          f"{args.size}x{args.size} at {args.rate} Hz, publisher depth 10, "
          f"{args.duration:.0f} s per run, RMW {os.environ.get('RMW_IMPLEMENTATION', '?')}\n")
    print(table(results, args.control))
    print()
    print(summary(results))
    if failed:
        print(f"\n{len(failed)} run(s) failed: {failed}")
    return 1 if failed else 0


def _write_json(path: str, results: list[dict[str, Any]]) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(results, indent=1))
    tmp.replace(path)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("role", nargs="?", default="run", choices=("run", "publish"),
                   help="run (default): the experiment; publish: the camera (internal)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--duration", type=float, default=60.0, help="seconds measured per run")
    p.add_argument("--rate", type=float, default=30.0)
    p.add_argument("--size", type=int, default=512, help="square image side in pixels")
    p.add_argument("--frames", type=int, default=30, help="distinct frames, sent in a loop")
    p.add_argument("--seg-encoding", choices=("mono8", "rgb8"), default="mono8")
    p.add_argument("--pub-qos", choices=("reliable", "best_effort"), default="reliable")
    p.add_argument("--node-param", action="append", default=[], metavar="NAME:=VALUE",
                   help="translator_node parameter (repeatable), e.g. qos:=reliable")
    p.add_argument("--variant", action="append", nargs="+", default=[],
                   metavar="LABEL [NAME:=VALUE]",
                   help="a configuration to compare (repeatable; runs interleave): node "
                   "parameters plus receive_buffer_mb:=N (the DDS receive buffer the launch "
                   "file asks for the node) and pub_qos:=reliable|best_effort")
    p.add_argument("--control", action=argparse.BooleanOptionalAction, default=True,
                   help="also count the inputs in this process with the node's QoS")
    p.add_argument("--control-qos", choices=("sensor_data", "reliable"), default="sensor_data")
    p.add_argument("--silent-s", type=float, default=3.0,
                   help="an input counts as silent after this long without a message")
    p.add_argument("--domain-id", type=int, default=40 + os.getpid() % 60)
    p.add_argument("--start-timeout", type=float, default=180.0)
    p.add_argument("--log-dir", default="", help="keep each run's node/publisher output here")
    p.add_argument("--out", default="", help="write every run's numbers here (JSON)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in background
    if argv[:1] == ["node"]:
        return node_role(argv[1:])
    args = _parser().parse_args(argv)
    return publish_role(args) if args.role == "publish" else run_role(args)


if __name__ == "__main__":
    sys.exit(main())
