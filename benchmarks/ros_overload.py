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
  ``queue_depth``, so a label without its image means the probe lost that image, or a bug).

Run with ROS 2 sourced (before any ``set -u``), e.g. the stack in /work/ros2 (USAGE.md)::

    .venv/bin/python benchmarks/ros_overload.py --runs 4 --duration 60 --out /tmp/ovl.json
    .venv/bin/python benchmarks/ros_overload.py --runs 4 --node-param qos:=reliable

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

NS = "/sim/camera"
OUT_NS = "/realistic/camera"
INPUTS = ("image_raw", "camera_info", "segmentation", "depth")
NODE_KEYS = {"image": "image_raw", "camera_info": "camera_info",
             f"{NS}/segmentation": "segmentation", f"{NS}/depth": "depth"}
WINDOW_S = 10.0


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
    from sensor_msgs.msg import CameraInfo, Image

    rclpy.init(args=["ros_overload_publish"])  # not sys.argv: no ROS arguments there
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
    stop = threading.Event()
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
    except KeyboardInterrupt:  # the orchestrator's SIGINT: report and exit
        pass
    except Exception:  # ExternalShutdownException, or publish() after Ctrl-C shut rclpy down
        if rclpy.ok():
            raise
    _emit("OVERLOAD_PUBLISHER", {
        "sent_at_ns": sent_at, "missed_slots": int(missed),
        "publish_ms": {t: _percentiles(v) for t, v in call_ms.items()}})
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


def _percentiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max())}


# ---- role: translator node ---------------------------------------------------------------
def node_role(ros_args: list[str]) -> int:  # ros_args: ["--ros-args", "-p", ...] or []
    """``TranslatorNode`` as ``ros2 run`` starts it, plus a 1 Hz JSON report of its counters."""
    from sim2real_gan.node.runner import run_node
    from sim2real_gan.node.translator_node import TranslatorNode

    def report(node: Any) -> None:
        if node.sync is None:
            return
        snap = node.sync.snapshot()
        _emit("OVERLOAD_NODE", {"wall_ns": time.time_ns(), "received": snap.received,
                                "published": snap.published, "frame_drops": snap.frame_drops,
                                "message_drops": snap.message_drops})

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

    def __init__(self, argv: list[str], log_path: Path | None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1, start_new_session=True)
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
                 timeout_s: float) -> Child:
    log = log_dir / f"{name}.log" if log_dir else None
    child = Child([sys.executable, __file__, *role_argv], log)
    if not child.active.wait(timeout_s) or child.proc.poll() is not None:
        code = child.stop()
        tail = "\n  ".join(child.lines[-15:])
        raise RuntimeError(f"{name} did not start (exit {code}); last lines:\n  {tail}")
    return child


def _grew(prev: dict[str, Any], cur: dict[str, Any] | None, key: str) -> bool:
    return cur is not None and cur["received"].get(key, 0) > prev["received"].get(key, 0)


def _silences(reports: list[dict[str, Any]], t0_ns: int, silent_s: float) -> dict[str, Any]:
    """Per non-image input: stretches of >= ``silent_s`` in which the node received none of
    it while images kept arriving -> {input: {"from_s" (first stretch), "silent_s" (all),
    "until_end"}}."""
    out: dict[str, Any] = {}
    for key, name in NODE_KEYS.items():
        if name == "image_raw":
            continue
        since = None  # the report after which the input stopped arriving
        for prev, cur in zip(reports, [*reports[1:], None], strict=True):
            if since is None and _grew(prev, cur, "image") and not _grew(prev, cur, key):
                since = prev
            elif since is not None and (_grew(prev, cur, key) or cur is None):
                length = ((cur or prev)["wall_ns"] - since["wall_ns"]) / 1e9
                if length >= silent_s:
                    entry = out.setdefault(name, {"from_s": (since["wall_ns"] - t0_ns) / 1e9,
                                                  "silent_s": 0.0})
                    entry["silent_s"] += length
                    entry["until_end"] = cur is None
                since = None
    return out


def analyse(t0: int, t1: int, pub: dict[str, Any], reports: list[dict[str, Any]],
            probe: dict[str, list[tuple[int, int]]], silent_s: float) -> dict[str, Any]:
    """One run's numbers (t0/t1: first send / end of the measured span, wall ns)."""
    n_win = max(1, int((t1 - t0) / 1e9 / WINDOW_S + 0.05))  # whole windows measured
    out_img = [(r, s) for r, s in probe["out/image_raw"] if s >= t0]

    def per_window(times: list[int]) -> list[float]:
        idx = (np.asarray(times, dtype=np.int64) - t0) // int(WINDOW_S * 1e9)
        counts = np.bincount(idx[(idx >= 0) & (idx < n_win)], minlength=n_win)
        return [round(float(c) / WINDOW_S, 1) for c in counts]

    lat = [(r - s) / 1e6 for r, s in out_img]
    image_stamps = {s for _, s in probe["out/image_raw"]}
    final = reports[-1] if reports else {"received": {}, "frame_drops": {}, "published": 0}
    return {
        "sent": len(pub["sent_at_ns"]), "sent_hz": per_window(pub["sent_at_ns"]),
        "missed_slots": pub["missed_slots"], "publish_ms": pub["publish_ms"],
        "out_hz": per_window([r for r, _ in out_img]),
        "latency_ms": _percentiles(lat), "published": final["published"],
        "node_received": {n: final["received"].get(k, 0) for k, n in NODE_KEYS.items()},
        "control_received": {t: len(probe[f"in/{t}"]) for t in INPUTS if f"in/{t}" in probe},
        "frame_drops": final["frame_drops"], "message_drops": final.get("message_drops", {}),
        "silent": _silences(reports, t0, silent_s),
        "probe_images": len(image_stamps),
        "labels_without_image": sum(s not in image_stamps for t in INPUTS[1:]
                                    for _, s in probe[f"out/{t}"]),
    }


def one_run(args: argparse.Namespace, probe_node: Any, index: int) -> dict[str, Any]:
    """Start node, probe, publisher; measure ``args.duration`` s; stop all; analyse."""
    log_dir = None
    if args.log_dir:
        log_dir = Path(args.log_dir) / f"run{index}"
        log_dir.mkdir(parents=True)  # an existing run folder is an error, never overwritten
    node_argv = ["node", "--ros-args"] + [a for p in args.node_param for a in ("-p", p)]
    node = _start_child(node_argv, log_dir, "node", args.start_timeout)
    probe = Probe(probe_node, args.control_qos if args.control else None)
    probe.start()
    pub = None
    try:
        rss0 = node.rss_mib()
        pub = _start_child(["publish", "--rate", str(args.rate), "--size", str(args.size),
                            "--frames", str(args.frames), "--seg-encoding", args.seg_encoding,
                            "--pub-qos", args.pub_qos], log_dir, "publisher", args.start_timeout)
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
    result.update(run=index, rss_mib=[round(rss0, 1), round(rss1, 1)], exit_codes=[
        pub_code, node_code], node_params=args.node_param, last_status=status[-1:],
        unparsed_reports=node.unparsed + pub.unparsed)
    return result


def _fmt_drops(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "none"


def table(results: list[dict[str, Any]], control: bool) -> str:
    """Markdown table, one row per run."""
    head = ("| run | node params | out Hz per 10 s | latency p50 / p99 ms | sent | node got "
            "img / ci / seg / depth |" + (" control got img / ci / seg / depth |" if control
                                         else "") + " silent in node | frame drops | "
            "RSS start -> end MiB | depth publish() p99 / max ms | probe: images of "
            "published, labels without image |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        got = " / ".join(str(r["node_received"][t]) for t in INPUTS)
        ctl = (" " + " / ".join(str(r["control_received"][t]) for t in INPUTS) + " |"
               if control else "")
        silent = "; ".join(f"{k} from {v['from_s']:.0f} s for {v['silent_s']:.0f} s"
                           + (" (to end)" if v["until_end"] else "")
                           for k, v in r["silent"].items()) or "none"
        lat, pd = r["latency_ms"], r["publish_ms"]["depth"]
        rows.append(
            f"| {r['run']} | {' '.join(r['node_params']) or 'defaults'} | "
            f"{' '.join(f'{h:.1f}' for h in r['out_hz'])} | {lat['p50']:.0f} / "
            f"{lat['p99']:.0f} | {r['sent']} | {got} |{ctl} {silent} | "
            f"{_fmt_drops(r['frame_drops'])} | {r['rss_mib'][0]:.0f} -> {r['rss_mib'][1]:.0f}"
            f" | {pd['p99']:.1f} / {pd['max']:.1f} | {r['probe_images']} of {r['published']},"
            f" {r['labels_without_image']} |")
    return "\n".join(rows)


def run_role(args: argparse.Namespace) -> int:
    """Orchestrate ``args.runs`` runs, print the table, write JSON to ``args.out``."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

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
    results = []
    try:
        for i in range(1, args.runs + 1):
            results.append(one_run(args, probe_node, i))
            print(table(results[-1:], args.control).splitlines()[-1], flush=True)
    finally:
        executor.shutdown()
        probe_node.destroy_node()
        rclpy.try_shutdown()
    load = os.getloadavg()
    print(f"\n{os.cpu_count()} CPUs, load average {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; "
          f"{args.size}x{args.size} at {args.rate} Hz, publisher {args.pub_qos} depth 10, "
          f"{args.duration:.0f} s per run, RMW {os.environ.get('RMW_IMPLEMENTATION', '?')}\n")
    print(table(results, args.control))
    if args.out:
        tmp = Path(f"{args.out}.tmp")
        tmp.write_text(json.dumps(results, indent=1))
        tmp.replace(args.out)
    return 0


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
