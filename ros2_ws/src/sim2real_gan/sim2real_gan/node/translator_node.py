"""``translator_node``: a lifecycle node that translates a simulated camera in real time.

configure  validate parameters, load the model (``Translator.from_artifact``), create the
           output publishers and the synchroniser
activate   subscribe (image, camera_info, label topics), start the translation thread
deactivate unsubscribe, stop the thread;   cleanup  release the engine and publishers

Subscription callbacks only add messages to the stamp-keyed synchroniser (latest-frame
policy, drops counted); a worker thread translates the newest complete frame and publishes
the image with the input header, then its labels and camera_info unchanged. Parameters are
declared from ``config/translator.yaml`` with descriptions and ranges and validated by
``sim2real_gan.node.params``; ``style`` and ``log_period_s`` change at run time.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from diagnostic_msgs.msg import DiagnosticStatus
from diagnostic_updater import Updater
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image

from sim2real_gan.node.inputs import Input, InputSubscriptions
from sim2real_gan.node.params import (
    TRANSLATOR_NODE,
    TRANSLATOR_PARAMS,
    ParameterError,
    StyleSpec,
    TranslatorSettings,
    default_config_path,
    load_config,
)
from sim2real_gan.node.ros_messages import descriptor, image_msg, qos_profile, stamp_ns
from sim2real_gan.node.runner import run_node
from sim2real_gan.node.stereo_worker import StereoTranslationWorker
from sim2real_gan.node.worker import TranslationWorker
from sim2real_gan.pipeline import (
    CAMERA_INFO_KEY,
    IMAGE_KEY,
    Frame,
    FrameSynchronizer,
    SyncConfig,
)
from sim2real_gan.pipeline.monitor import InputMonitor
from sim2real_gan.pipeline.status import (
    NOT_CONFIGURED,
    NodeStatus,
    diagnostic_pairs,
    status_line,
    summary,
    unconfigured_line,
)
from sim2real_gan.pipeline.topics import relative_to
from sim2real_gan.runtime.styles import check_style_for

if TYPE_CHECKING:
    from sim2real_gan.runtime import TranslatorLike

SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE
LEVELS = {"ok": DiagnosticStatus.OK, "warn": DiagnosticStatus.WARN}  # pipeline.status levels


class _RosLogHandler(logging.Handler):
    """Forwards the core's ``logging`` records (worker, runtime) to the node's logger."""

    def __init__(self, node: LifecycleNode):
        super().__init__()
        self.logger = node.get_logger()

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.levelno >= logging.ERROR:
            self.logger.error(text)
        elif record.levelno >= logging.WARNING:
            self.logger.warning(text)
        else:
            self.logger.info(text)


class TranslatorNode(LifecycleNode):
    """See the module docstring. Parameters: ``sim2real_gan.node.params.TRANSLATOR_PARAMS``."""

    def __init__(self, **kwargs: Any):
        super().__init__(TRANSLATOR_NODE, **kwargs)
        defaults = load_config(default_config_path())[TRANSLATOR_NODE]
        for name, spec in TRANSLATOR_PARAMS.items():
            self.declare_parameter(name, defaults[name], descriptor(spec))
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self._log_handler = _RosLogHandler(self)
        logging.getLogger("sim2real_gan").addHandler(self._log_handler)
        logging.getLogger("sim2real_gan").setLevel(logging.INFO)
        self.settings: TranslatorSettings | None = None
        self.translator: TranslatorLike | None = None
        self.sync: FrameSynchronizer | None = None
        self.worker: TranslationWorker | None = None
        self.active = False
        self._pubs: dict[str, Any] = {}
        self._log_timer: Any = None
        self._watch_timer: Any = None
        self.inputs: InputSubscriptions | None = None
        self.monitor: InputMonitor | None = None
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.diagnostics = Updater(self, period=1.0)
        self.diagnostics.setHardwareID("sim2real_gan")
        self.diagnostics.add("translator", self._diagnose)
        self.context.on_shutdown(self._on_context_shutdown)

    def _on_context_shutdown(self) -> None:
        """Ctrl-C / SIGTERM shut the context down: stop publishing at once (no join here)."""
        if self.worker is not None:
            self.worker.request_stop()

    # ---- parameters ---------------------------------------------------------------------
    def _values(self) -> dict[str, Any]:
        values = {n: self.get_parameter(n).value for n in TRANSLATOR_PARAMS}
        values["label_topics"] = [t for t in values["label_topics"] or [] if t]
        return values

    def _validate_parameters(self, params: list[Any]) -> SetParametersResult:
        values = self._values()
        for p in params:
            if p.name in TRANSLATOR_PARAMS:
                values[p.name] = [t for t in p.value if t] if p.name == "label_topics" \
                    else p.value
        try:
            settings = TranslatorSettings.from_params(values)
            if self.translator is not None and any(p.name == "style" for p in params):
                check_style_for(settings.style, self.translator.manifest)
        except (ParameterError, KeyError, FileNotFoundError, ValueError) as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, params: list[Any]) -> None:
        for p in params:
            if p.name == "style" and self.worker is not None:
                self.worker.request_style(StyleSpec.parse(p.value))
                self.get_logger().info(f"style -> {p.value}")
            elif p.name == "log_period_s" and self.active:
                self._start_log_timer(float(p.value))
            elif p.name in TRANSLATOR_PARAMS and self.translator is not None \
                    and not TRANSLATOR_PARAMS[p.name].runtime:
                self.get_logger().info(f"{p.name} changed: applies after cleanup + configure")

    # ---- lifecycle ----------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.settings = s = TranslatorSettings.from_params(self._values())
            self.translator = self._load_translator(s)
            check_style_for(s.style, self.translator.manifest)
            aux_keys = {src.name: s.topics.aux_topic(src.topic)  # model inputs (e.g. uv)
                        for src in self.translator.manifest.aux}
            t = s.topics.with_labels(aux_keys.values())
            if s.stereo is not None:  # both eyes' aux streams, one frame plan
                aux_names = {src.name: src.topic for src in self.translator.manifest.aux}
                per_eye = s.stereo.aux_topics(aux_names)
                stereo = s.stereo.with_labels(per_eye["left"].values(),
                                              per_eye["right"].values())
                t = stereo.frame
        except Exception as exc:  # noqa: BLE001 - report any load failure and stay unconfigured
            self.get_logger().error(f"configure failed: {exc}")
            self._release()
            return FAILURE
        labels = t.label_routes
        pub_qos = qos_profile("reliable", max(s.queue_depth, 1))
        self._pubs = {"image": self.create_lifecycle_publisher(Image, t.image.dst, pub_qos)}
        if t.camera_info is not None:
            self._pubs["camera_info"] = self.create_lifecycle_publisher(
                CameraInfo, t.camera_info.dst, pub_qos)
        for src, dst in labels.items():
            self._pubs[src] = self.create_lifecycle_publisher(self._msg_type(src), dst, pub_qos)
        self.sync = FrameSynchronizer(SyncConfig(
            label_keys=tuple(labels), camera_info=t.camera_info is not None,
            slop_ns=s.slop_ns, hold_ns=s.hold_ns, max_pending=s.max_pending, policy="latest",
            reorder_ns=s.reorder_ns, episode_gap_ns=s.episode_gap_ns,
            peer_image_keys=(s.stereo.right_image_key,) if s.stereo else ()))
        if s.stereo is not None:
            self.worker = StereoTranslationWorker(
                self.sync, self.translator, self._publish_stereo, plan=stereo,
                aux_names=aux_names, depth_topic=s.stereo_depth_topic, style=s.style,
                alive=self.context.ok)
        else:
            self.worker = TranslationWorker(
                self.sync, self.translator, self._publish, aux_keys=aux_keys, style=s.style,
                image_topic=t.image.src,
                camera_info_topic=t.camera_info.src if t.camera_info else "camera_info",
                alive=self.context.ok)
        pair = f" + {s.stereo.right.image.src} -> {s.stereo.right.image.dst} (stereo)" \
            if s.stereo else ""
        self.get_logger().info(
            f"configured: {t.image.src} -> {t.image.dst}{pair}, labels {labels}, camera_info "
            f"{'forwarded' if s.forward_camera_info else 'not forwarded'}, backend "
            f"{self.translator.backend.label}, style {s.style.kind}"
            f"{'' if s.style.value is None else ' ' + str(s.style.value)}, qos {s.qos}")
        return super().on_configure(state)

    def _load_translator(self, s: TranslatorSettings) -> TranslatorLike:
        from sim2real_gan.pipeline.model_path import resolve_model
        from sim2real_gan.runtime.translator import Translator

        path = resolve_model(s.model)
        self.get_logger().info(f"loading model {path} (backend {s.backend})")
        return Translator.from_artifact(path, s.backend, device=s.device or None,
                                        **s.backend_options())

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ret = super().on_activate(state)
        s = self.settings
        inputs = self._inputs()
        self.monitor = InputMonitor({k: i.name for k, i in inputs.items()})
        self.inputs = InputSubscriptions(self, inputs, s.qos, s.queue_depth, self._on_message,
                                         self.monitor)
        self.inputs.open()
        self.worker.start()
        self.active = True
        self._start_log_timer(self.get_parameter("log_period_s").value)
        self._watch_timer = self.create_timer(0.5, self._watch_inputs, clock=self._steady)
        self.get_logger().info("active")
        return ret

    def _inputs(self) -> dict[str, Input]:
        """Input key -> type, topic and name (the topic below input_ns, else absolute)."""
        t = self.settings.topics

        def name(topic: str) -> str:
            return relative_to(t.input_ns, topic) or topic

        inputs = {IMAGE_KEY: Input(Image, t.image.src, name(t.image.src))}
        if t.camera_info is not None:
            inputs[CAMERA_INFO_KEY] = Input(CameraInfo, t.camera_info.src,
                                            name(t.camera_info.src))
        for key in self.sync.config.label_keys:
            inputs[key] = Input(self._msg_type(key), key, name(key))
        return inputs

    def _watch_inputs(self) -> None:
        """Twice a second: log inputs that went silent or resumed; ``qos: auto``: follow
        the publishers of each input topic."""
        for event in self.monitor.check():
            if event.kind == "silent":
                self.get_logger().warning(event.message)
            else:  # rclpy: one severity per logging call site
                self.get_logger().info(event.message)
        self.inputs.refresh()

    def _on_message(self, key: str, msg: Any) -> None:
        """Subscription callback: hand the message to the synchroniser (never blocks). A
        stamp going back (simulation reset) is detected there and starts a new episode."""
        self.sync.add(key, stamp_ns(msg.header.stamp), msg)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_streaming()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_streaming()
        self._release()
        return SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_streaming()
        self._release()
        return SUCCESS

    def _stop_streaming(self) -> None:
        if self._watch_timer is not None:
            self.destroy_timer(self._watch_timer)
            self._watch_timer = None
        if self.inputs is not None:
            self.inputs.close()
            self.inputs = None
        if self.worker is not None:
            self.worker.stop()
        if self._log_timer is not None:
            self.destroy_timer(self._log_timer)
            self._log_timer = None
        if self.active and self.sync is not None:
            self.get_logger().info(f"deactivated: {self.sync.snapshot().line(self._names())}")
        self.active = False

    def _release(self) -> None:
        for pub in self._pubs.values():
            self.destroy_lifecycle_publisher(pub)
        self._pubs = {}
        if self.translator is not None:
            self.translator.close()
        self.translator = self.sync = self.worker = None
        self.monitor = None  # its input names belong to the released topic plan

    # ---- output -------------------------------------------------------------------------
    def _publish(self, frame: Frame, fields: dict[str, Any]) -> None:
        """Worker thread: the translated image with the input header, then its labels. A
        publish racing Ctrl-C's context shutdown raises; the worker, whose ``alive`` is
        this context's ``ok``, then ends quietly instead of counting an error."""
        self._pubs["image"].publish(image_msg(fields, frame.image.header))
        for key, msg in frame.labels.items():
            self._pubs[key].publish(msg)
        if frame.camera_info is not None:
            self._pubs["camera_info"].publish(frame.camera_info)

    def _msg_type(self, key: str) -> type:
        """Message type of a label key: the right eye's camera_info in stereo mode is a
        CameraInfo, every other label (and the right image) an Image."""
        stereo = self.settings.stereo if self.settings is not None else None
        return CameraInfo if stereo is not None and key == stereo.right_camera_info_key \
            else Image

    def _publish_stereo(self, frame: Frame, fields: dict[str, Any]) -> None:
        """Worker thread: both translated eyes with their input headers, then every label
        and camera_info of the pair as received (shutdown: as :meth:`_publish`)."""
        plan = self.settings.stereo
        right_key = plan.right_image_key
        self._pubs["image"].publish(image_msg(fields["left"], frame.image.header))
        self._pubs[right_key].publish(image_msg(fields["right"],
                                                frame.labels[right_key].header))
        for key, msg in frame.labels.items():
            if key != right_key:
                self._pubs[key].publish(msg)
        if frame.camera_info is not None:
            self._pubs["camera_info"].publish(frame.camera_info)

    def _start_log_timer(self, period_s: float) -> None:
        if self._log_timer is not None:
            self.destroy_timer(self._log_timer)
            self._log_timer = None
        if period_s > 0:
            self._log_timer = self.create_timer(period_s, self._log_status, clock=self._steady)

    def _status(self) -> NodeStatus | None:
        """Everything the status line and ``/diagnostics`` report (None before configure)."""
        if self.sync is None or self.translator is None or self.worker is None:
            return None
        snap = self.sync.snapshot()
        inputs = self.monitor.snapshot() if self.active and self.monitor is not None else []
        qos = {k: c.reliability for k, c in self.inputs.choices.items()} \
            if self.inputs is not None else {}
        return NodeStatus(backend=self.translator.backend.label, model=str(self.settings.model),
                          style=self.worker.style_info, snap=snap, active=self.active,
                          errors=self.worker.errors, names=self._names(), inputs=inputs,
                          qos=qos, notes=self._stereo_notes(snap))

    def _status_line(self) -> str:
        st = self._status()
        if st is None:
            return unconfigured_line(self.translator.backend.label if self.translator else None)
        return status_line(st)

    def _names(self) -> dict[str, str]:
        """Input key -> name, for lines and diagnostics (empty before activation)."""
        return self.monitor.names if self.monitor is not None else {}

    def _stereo_notes(self, snap: Any) -> list[str]:
        """Stereo: the right camera_info baseline check and stamps that never matched."""
        if self.settings is None or self.settings.stereo is None or self.worker is None:
            return []
        from sim2real_gan.pipeline.stereo_step import never_matched

        notes = [] if not self.worker.baseline.counts else [self.worker.baseline.summary()]
        if self.worker.step_fn.right_from_left is not None and snap.published:
            notes.insert(0, self.worker.step_fn.right_from_left.summary())
        problem = never_matched(snap.received, snap.published, self.settings.stereo)
        return notes + ([problem] if problem else [])

    def _log_status(self) -> None:
        self.get_logger().info(self._status_line())

    def _diagnose(self, stat: Any) -> Any:
        st = self._status()
        if st is None:
            stat.summary(DiagnosticStatus.OK, NOT_CONFIGURED)
            return stat
        level, message = summary(st)
        stat.summary(LEVELS[level], message)
        for key, value in diagnostic_pairs(st):
            stat.add(key, value)
        return stat


def _autostart(node: TranslatorNode) -> int:
    """Configure + activate when ``autostart``; exit code 1 if configure fails."""
    if not node.get_parameter("autostart").value:
        return 0
    node.trigger_configure()
    if node.translator is None:
        node.get_logger().fatal("autostart: configure failed, exiting")
        return 1
    node.trigger_activate()
    return 0


def _teardown(node: TranslatorNode) -> None:
    if node.worker is not None:
        node.worker.stop()
    logging.getLogger("sim2real_gan").removeHandler(node._log_handler)


def main(args: list[str] | None = None) -> int:
    """Entry point: spin the node; configure + activate it first when ``autostart``."""
    return run_node(TranslatorNode, _autostart, _teardown, args)


if __name__ == "__main__":
    sys.exit(main())
