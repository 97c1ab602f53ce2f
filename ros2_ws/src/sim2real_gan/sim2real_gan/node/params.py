"""Parameter specs, validation and topic/model/style resolution for the ROS nodes (no rclpy).

The defaults live only in ``config/translator.yaml``; this module declares each parameter's
type, description and allowed values, validates values (the nodes reject a bad parameter
with the reason returned here) and builds typed settings. It imports nothing from ROS so
that it is unit-tested without a ROS graph.

Example:
    >>> cfg = load_config(default_config_path())
    >>> s = TranslatorSettings.from_params(cfg["translator_node"])
    >>> s.topics.image
    Route(src='/sim/camera/image_raw', dst='/realistic/camera/image_raw')

Topic names follow the one plan of :mod:`sim2real_gan.pipeline.topics` (also used by
``translate-bag`` and the launch file).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from sim2real_gan.artifact import BACKEND_CHOICES, STYLE_SYNTAX, StyleError, StyleSpec
from sim2real_gan.cli.argtypes import thread_count_problem
from sim2real_gan.node.qos_choice import QOS_MODES
from sim2real_gan.pipeline.stereo_topics import (
    STEREO_NODE_NAMES,
    StereoPlan,
    StereoRequest,
    depth_topic_problem,
)
from sim2real_gan.pipeline.topics import (
    NODE_NAMES,
    TopicError,
    TopicPlan,
    TopicRequest,
    check_name,
)

CONFIG_NAME = "translator.yaml"
TRANSLATOR_NODE = "translator_node"
CAMERA_NODE = "synthetic_camera"
LAUNCH_SECTION = "translate_launch"


class ParameterError(ValueError):
    """A parameter value is not acceptable; the message names the parameter and the reason."""


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: type, description, allowed values and mutability.

    ``kind`` is one of bool, int, float, str, str_list. ``low``/``high`` bound numbers
    (inclusive); ``choices`` bounds strings. ``runtime`` parameters may change while the node
    is active; the others take effect on the next configure.
    """

    name: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    runtime: bool = False


def _p(name: str, kind: str, description: str, **kw: Any) -> tuple[str, ParamSpec]:
    return name, ParamSpec(name, kind, description, **kw)


TRANSLATOR_PARAMS: dict[str, ParamSpec] = dict([
    _p("autostart", "bool", "configure and activate the lifecycle node on start"),
    _p("model", "str", "model artifact directory, or the name of a model shipped in the "
       "package share (models/<name>)"),
    _p("backend", "str", "inference backend", choices=BACKEND_CHOICES),
    _p("precision", "str", "inference precision (tensorrt/torch on CUDA; auto = fp16 on "
       "CUDA, fp32 on CPU)", choices=("auto", "fp32", "fp16")),
    _p("device", "str", "inference device: '' (backend's best), cpu, cuda or cuda:N"),
    _p("threads", "int", "CPU inference threads (0 = backend default)", low=0, high=256),
    _p("input_ns", "str", "namespace of the simulated camera topics (absolute)"),
    _p("output_ns", "str", "namespace of the translated image and forwarded labels "
       "(absolute)"),
    _p("image_topic", "str", "image topic, relative to input_ns or absolute"),
    _p("camera_info_topic", "str", "camera_info topic, relative to input_ns or absolute"),
    _p("label_topics", "str_list", "label topics republished untouched under output_ns "
       "with the image's stamp (relative to input_ns or absolute; a topic inside input_ns "
       "keeps its path below it, one outside goes under output_ns by its last name)"),
    _p("forward_camera_info", "bool", "require camera_info per frame and republish it"),
    _p("stereo", "bool", "stereo pair (docs/stereo.md): image_topic, camera_info_topic and "
       "label_topics are relative to each eye's namespace <input_ns>/<left_ns> and "
       "<input_ns>/<right_ns>; both eyes are synchronised by stamp, translated as one batch "
       "with one style and published under <output_ns>/<left_ns>, <output_ns>/<right_ns>"),
    _p("left_ns", "str", "left eye namespace below input_ns and output_ns (stereo)"),
    _p("right_ns", "str", "right eye namespace below input_ns and output_ns (stereo)"),
    _p("stereo_depth_topic", "str", "each eye's depth topic, relative to the eye (stereo): "
       "when it is among label_topics and both eyes carry camera_info, the right eye's "
       "pixels that the left eye also sees are the left translation reprojected with it "
       "(docs/stereo.md); '' = off"),
    _p("style", "str", f"appearance: {STYLE_SYNTAX}; random draws a new code per episode "
       "(the old seed:N, name:NAME, image:PATH still work, with a deprecation warning)",
       runtime=True),
    _p("episode_gap_s", "float", "a forward stamp jump larger than this starts a new "
       "episode (0 = only resets do)", low=0.0, high=3600.0),
    _p("reorder_window_ms", "float", "an image stamp at most this far behind the newest is "
       "an out-of-order arrival; further back is a simulation reset (new episode)",
       low=0.0, high=10000.0),
    _p("sync_tolerance_ms", "float", "largest label-to-image stamp difference",
       low=0.0, high=1000.0),
    _p("sync_hold_ms", "float", "how long an incomplete frame waits for its labels",
       low=1.0, high=10000.0),
    _p("max_pending", "int", "most frames held by the synchroniser", low=1, high=1000),
    _p("qos", "str", "input subscription reliability: auto = per topic from its publishers "
       "(reliable when all are reliable, best effort when one is), reliable, or sensor_data "
       "(best effort); docs/ros.md, QoS", choices=QOS_MODES),
    _p("queue_depth", "int", "subscription and publisher queue depth", low=1, high=1000),
    _p("engine_cache_dir", "str", "TensorRT engine cache directory ('' = runtime default)"),
    _p("force_engine_update", "bool", "rebuild the TensorRT engine even if cached"),
    _p("log_period_s", "float", "period of the one-line status log (0 = off)",
       low=0.0, high=3600.0, runtime=True),
])

CAMERA_PARAMS: dict[str, ParamSpec] = dict([
    _p("namespace", "str", "topic namespace of the published camera"),
    _p("rate_hz", "float", "frames per second", low=0.1, high=1000.0),
    _p("width", "int", "image width in pixels", low=16, high=8192),
    _p("height", "int", "image height in pixels", low=16, high=8192),
    _p("seed", "int", "scene seed", low=0, high=2**31 - 1),
    _p("appearance", "str", "rendered appearance", choices=("sim", "real")),
    _p("episode_frames", "int", "frames per episode (0 = one endless episode)",
       low=0, high=2**31 - 1),
    _p("max_frames", "int", "stop after this many frames (0 = never)", low=0, high=2**31 - 1),
    _p("stamp_source", "str", "header stamps: sim (frame index / rate) or wall clock",
       choices=("sim", "wall")),
    _p("publish_clock", "bool", "publish /clock with the sim stamps (stamp_source sim)"),
    _p("frame_id", "str", "header.frame_id of every message"),
    _p("publish_depth", "bool", "publish depth (32FC1, metres)"),
    _p("publish_uv", "bool", "publish uv (32FC2)"),
    _p("stereo", "bool", "stereo scope: publish <namespace>/left/* and <namespace>/right/* "
       "(stereo_image_proc layout, one stamp per pair, right P[3] = -fx * baseline)"),
    _p("baseline_mm", "float", "stereo baseline in millimetres", low=0.5, high=50.0),
    _p("qos", "str", "publisher QoS", choices=("reliable", "sensor_data")),
])

LAUNCH_PARAMS: dict[str, ParamSpec] = dict([
    _p("use_sim_time", "bool", "use /clock as the ROS time"),
    _p("synthetic_source", "bool", "also start the synthetic_camera node"),
    _p("record", "bool", "record the output namespace with ros2 bag record"),
    _p("bag_dir", "str", "bag directory for record:=true ('' = timestamped)"),
    _p("bag_storage", "str", "rosbag2 storage", choices=("mcap", "sqlite3")),
    _p("receive_buffer_mb", "int", "DDS socket receive buffer asked for the translator "
       "(Cyclone DDS, through CYCLONEDDS_URI, only when that is not set; capped by "
       "net.core.rmem_max; 0 = middleware default)", low=0, high=1024),
    _p("log_level", "str", "log level of the nodes",
       choices=("debug", "info", "warn", "error", "fatal")),
])

SECTIONS: dict[str, dict[str, ParamSpec]] = {
    TRANSLATOR_NODE: TRANSLATOR_PARAMS, CAMERA_NODE: CAMERA_PARAMS, LAUNCH_SECTION: LAUNCH_PARAMS,
}

# Launch argument -> (section, parameter). The launch file builds its arguments from this.
LAUNCH_ARGS: dict[str, tuple[str, str]] = {
    "model": (TRANSLATOR_NODE, "model"),
    "backend": (TRANSLATOR_NODE, "backend"),
    "precision": (TRANSLATOR_NODE, "precision"),
    "input_ns": (TRANSLATOR_NODE, "input_ns"),
    "output_ns": (TRANSLATOR_NODE, "output_ns"),
    "label_topics": (TRANSLATOR_NODE, "label_topics"),
    "style": (TRANSLATOR_NODE, "style"),
    "qos": (TRANSLATOR_NODE, "qos"),
    "stereo": (TRANSLATOR_NODE, "stereo"),
    "use_sim_time": (LAUNCH_SECTION, "use_sim_time"),
    "synthetic_source": (LAUNCH_SECTION, "synthetic_source"),
    "record": (LAUNCH_SECTION, "record"),
    "bag_dir": (LAUNCH_SECTION, "bag_dir"),
    "bag_storage": (LAUNCH_SECTION, "bag_storage"),
    "log_level": (LAUNCH_SECTION, "log_level"),
    "receive_buffer_mb": (LAUNCH_SECTION, "receive_buffer_mb"),
}


# ------------------------------------------------------------------------------ values
def check_value(spec: ParamSpec, value: Any) -> Any:
    """Validate one value against its spec; returns it (ints accepted for floats).

    Raises:
        ParameterError: wrong type, out of range or not an allowed choice.
    """
    name = spec.name
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ParameterError(f"{name}: expected true or false, got {value!r}")
        return value
    if spec.kind in ("int", "float"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if spec.kind == "float":
            ok = ok or isinstance(value, float)
        if not ok:
            raise ParameterError(f"{name}: expected {'an integer' if spec.kind == 'int' else 'a number'}"
                                 f", got {type(value).__name__} {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(f"{name}: expected a finite number, got {value!r}")
        if (spec.low is not None and value < spec.low) or (spec.high is not None
                                                           and value > spec.high):
            raise ParameterError(f"{name}: {value!r} is outside [{spec.low}, {spec.high}]")
        return float(value) if spec.kind == "float" else value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ParameterError(f"{name}: expected a string, got {type(value).__name__} "
                                 f"{value!r}")
        if spec.choices and value not in spec.choices:
            raise ParameterError(f"{name}: {value!r} is not one of {list(spec.choices)}")
        return value
    if spec.kind == "str_list":
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(
                isinstance(v, str) for v in value):
            raise ParameterError(f"{name}: expected a list of strings, got {value!r}")
        return list(value)
    raise AssertionError(f"unknown parameter kind {spec.kind!r}")


def check_params(specs: Mapping[str, ParamSpec], values: Mapping[str, Any],
                 complete: bool = True) -> dict[str, Any]:
    """Validate a mapping of parameters; unknown names (and missing ones if ``complete``)
    are errors."""
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {unknown}; expected some of {sorted(specs)}")
    missing = sorted(set(specs) - set(values))
    if complete and missing:
        raise ParameterError(f"missing parameter(s) {missing}")
    return {k: check_value(specs[k], v) for k, v in values.items()}


def check_topic(name: str, value: str, namespace: bool = False) -> str:
    """A ROS 2 topic (or absolute namespace) name by the rules of
    :func:`sim2real_gan.pipeline.topics.check_name`; ParameterError naming ``name``."""
    try:
        return check_name(name, value, namespace=namespace)
    except TopicError as exc:
        raise ParameterError(str(exc)) from None


# ------------------------------------------------------------------------------ config file
def default_config_path() -> Path:
    """``config/translator.yaml`` of the installed package share or of the source tree."""
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "config" / CONFIG_NAME]  # source tree / ament_python
    try:  # installed with colcon: share/sim2real_gan/config
        from ament_index_python.packages import get_package_share_directory

        candidates.insert(0, Path(get_package_share_directory("sim2real_gan")) / "config"
                          / CONFIG_NAME)
    except Exception:  # noqa: BLE001 - no ament index (pip install): use the source tree
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"{CONFIG_NAME} not found; looked in {[str(c) for c in candidates]}")


def load_config(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read and validate the YAML: ``{section: {param: value}}`` for every section."""
    path = Path(path)
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise ParameterError(f"{path}: expected a mapping of node names, got {type(doc).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for section, specs in SECTIONS.items():
        try:
            values = doc[section]["ros__parameters"]
        except (KeyError, TypeError):
            raise ParameterError(f"{path}: missing {section}: ros__parameters:") from None
        try:
            out[section] = check_params(specs, values)
        except ParameterError as exc:
            raise ParameterError(f"{path} [{section}] {exc}") from None
    TranslatorSettings.from_params(out[TRANSLATOR_NODE])
    CameraSettings.from_params(out[CAMERA_NODE])
    return out


def launch_arguments(config: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """Launch argument name -> (default as launch text, description), from the config."""
    args = {}
    for arg, (section, param) in LAUNCH_ARGS.items():
        value = config[section][param]
        spec = SECTIONS[section][param]
        text = spec.description + (f" (one of: {', '.join(spec.choices)})" if spec.choices else "")
        args[arg] = (to_launch_text(value), text)
    return args


def to_launch_text(value: Any) -> str:
    """A parameter value as launch-argument text that YAML-parses back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value)


def parse_launch_list(text: str) -> list[str]:
    """Launch-argument text of a topic list: ``[a, b]``, ``a,b`` or ``a`` -> list."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [t.strip().strip("'\"") for t in text.split(",") if t.strip().strip("'\"")]


# ------------------------------------------------------------------------------ settings
def topic_request(p: Mapping[str, Any]) -> TopicRequest:
    """The node's topic parameters as a request of the one topic plan (pipeline.topics)."""
    return TopicRequest(
        input_ns=p["input_ns"], output_ns=p["output_ns"], image=p["image_topic"],
        camera_info=p["camera_info_topic"] if p["forward_camera_info"] else None,
        labels=tuple(p["label_topics"]), names=NODE_NAMES)


def plan_topics(p: Mapping[str, Any]) -> TopicPlan:
    """Resolve the topic parameters; ParameterError names the parameter and the rule. In
    stereo mode this is the synchroniser's frame plan (:attr:`StereoPlan.frame`)."""
    check_topic("camera_info_topic", p["camera_info_topic"])  # checked even when unused
    try:
        return plan_stereo(p).frame if p.get("stereo") else topic_request(p).plan()
    except TopicError as exc:
        raise ParameterError(str(exc)) from None


def stereo_request(p: Mapping[str, Any]) -> StereoRequest:
    """The node's topic parameters as a stereo request (pipeline.stereo_topics)."""
    base = replace(topic_request(p), names=STEREO_NODE_NAMES)
    return StereoRequest(base, p["left_ns"], p["right_ns"], STEREO_NODE_NAMES)


def plan_stereo(p: Mapping[str, Any]) -> StereoPlan:
    """Both eyes' routes; ParameterError names the parameter and the rule."""
    try:
        return stereo_request(p).plan()
    except TopicError as exc:
        raise ParameterError(str(exc)) from None


def parse_style_param(text: Any) -> StyleSpec:
    """The ``style`` parameter through the one style syntax (:class:`StyleSpec`, shared
    with the CLI's ``--style`` and the launch argument); a reference image must exist."""
    try:
        return StyleSpec.parse(text, check_file=True)
    except StyleError as exc:
        raise ParameterError(str(exc)) from None


@dataclass(frozen=True)
class TranslatorSettings:
    """Validated settings of translator_node (see TRANSLATOR_PARAMS for meanings)."""

    model: str
    backend: str
    precision: str
    device: str
    threads: int
    topics: TopicPlan
    forward_camera_info: bool
    style: StyleSpec
    episode_gap_ns: int
    reorder_ns: int
    slop_ns: int
    hold_ns: int
    max_pending: int
    qos: str
    queue_depth: int
    engine_cache_dir: str
    force_engine_update: bool
    log_period_s: float
    autostart: bool = True
    stereo: StereoPlan | None = None  # both eyes' routes in stereo mode (topics = its frame)
    stereo_depth_topic: str = "depth"  # right eye from the left translation ('' = off)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TranslatorSettings:
        """Validate every parameter and the combinations; raises ParameterError."""
        p = check_params(TRANSLATOR_PARAMS, params)
        if not p["model"]:
            raise ParameterError("model: must name a model directory or a shipped model")
        if p["device"] and not re.match(r"^(cpu|cuda(:\d+)?)$", p["device"]):
            raise ParameterError(f"device: expected '', cpu, cuda or cuda:N, got {p['device']!r}")
        if (problem := thread_count_problem(p["threads"], allow_zero=True)) is not None:
            raise ParameterError(f"threads: {problem}")
        if p["backend"] == "tensorrt" and p["device"] == "cpu":
            raise ParameterError("backend: tensorrt runs on CUDA only, but device is 'cpu'")
        topics = plan_topics(p)
        stereo = plan_stereo(p) if p["stereo"] else None
        depth = p["stereo_depth_topic"]
        if (problem := depth_topic_problem(depth)) is not None:
            raise ParameterError(f"stereo_depth_topic: {problem}")
        return cls(
            model=p["model"], backend=p["backend"], precision=p["precision"],
            device=p["device"], threads=p["threads"], topics=topics,
            forward_camera_info=p["forward_camera_info"], style=parse_style_param(p["style"]),
            episode_gap_ns=int(p["episode_gap_s"] * 1e9),
            reorder_ns=int(p["reorder_window_ms"] * 1e6),
            slop_ns=int(p["sync_tolerance_ms"] * 1e6), hold_ns=int(p["sync_hold_ms"] * 1e6),
            max_pending=p["max_pending"], qos=p["qos"], queue_depth=p["queue_depth"],
            engine_cache_dir=p["engine_cache_dir"],
            force_engine_update=p["force_engine_update"], log_period_s=p["log_period_s"],
            autostart=p["autostart"], stereo=stereo, stereo_depth_topic=depth,
        )

    def backend_options(self) -> dict[str, Any]:
        """Keyword options for ``Translator.from_artifact`` (runtime BackendOptions)."""
        opts: dict[str, Any] = {"force_engine_update": self.force_engine_update}
        if self.engine_cache_dir:
            opts["engine_cache_dir"] = self.engine_cache_dir
        if self.threads:
            opts["threads"] = self.threads
        if self.precision != "auto":
            opts["fp16"] = opts["half"] = self.precision == "fp16"
        return opts


@dataclass(frozen=True)
class CameraSettings:
    """Validated settings of the synthetic_camera node (see CAMERA_PARAMS)."""

    namespace: str
    rate_hz: float
    width: int
    height: int
    seed: int
    appearance: str
    episode_frames: int
    max_frames: int
    stamp_source: str
    publish_clock: bool
    frame_id: str
    publish_depth: bool
    publish_uv: bool
    qos: str
    stereo: bool = False
    baseline_mm: float = 5.0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CameraSettings:
        p = check_params(CAMERA_PARAMS, params)
        check_topic("namespace", p["namespace"], namespace=True)
        if not p["frame_id"]:
            raise ParameterError("frame_id: must not be empty")
        if p["publish_clock"] and p["stamp_source"] != "sim":
            raise ParameterError("publish_clock: /clock is only published with "
                                 "stamp_source sim (wall stamps would fight the system clock)")
        return cls(**p)
