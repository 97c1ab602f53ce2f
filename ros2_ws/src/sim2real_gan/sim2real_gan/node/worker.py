"""The node's translation loop, free of rclpy: frame -> translated image fields -> publish.

``TranslationWorker`` runs in its own thread, so subscription callbacks only hand messages
to the synchroniser and never wait for inference. It takes the newest complete frame
(latest-frame policy of :class:`~sim2real_gan.pipeline.FrameSynchronizer`), runs the shared
decode -> translate -> encode step (:class:`~sim2real_gan.pipeline.message_step.MessageTranslator`)
and hands the encoded result to a publish callable together with the frame, whose labels are
forwarded only then.

Style: ``random`` draws a new seed per episode. Episodes are decided by the synchroniser
(a reset: the stamp goes back further than its reorder window; or a forward jump larger
than its ``episode_gap_ns``) and read here from ``Frame.episode``. A style change requested
from another thread (parameter callback) is applied by this thread before the next frame.

A frame that cannot be read, checked (label/camera_info size) or translated is skipped and
counted with its reason (:mod:`sim2real_gan.pipeline.faults`), as in ``translate-bag``.

Shutdown: the middleware can go away under the thread (rclpy's signal handler shuts the
context down before ``spin`` returns, and before anyone can stop this thread). ``alive``
(the node passes its context's ``ok``) is checked before each frame, so the loop stops
publishing as soon as the context is gone; a publish that still races the shutdown is not
an error once ``alive`` says so (one debug line, the thread ends).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sim2real_gan.artifact import StyleSpec
from sim2real_gan.pipeline import Frame, FrameSynchronizer
from sim2real_gan.pipeline.faults import FaultLog, FrameFault, check_part_sizes
from sim2real_gan.pipeline.message_step import MessageTranslator
from sim2real_gan.runtime.styles import style_value

if TYPE_CHECKING:
    from sim2real_gan.runtime import TranslatorLike

log = logging.getLogger(__name__)


class TranslationWorker:
    """Thread: wait for a frame, translate it, publish it; counts errors as drops.

    Args:
        sync: the synchroniser fed by the subscription callbacks.
        translator: a started Translator (only this thread uses it once started).
        publish: ``publish(frame, image_fields)``: sends the image and the frame's labels.
        aux_keys: aux input name (``uv``, ``depth``) -> label key holding that stream.
        style: initial style.
        image_topic, camera_info_topic: names used in fault lines (label keys are topics).
        alive: False once the middleware is shut down (the node: ``context.ok``); the loop
            then stops, and a failure it caused is not counted as a frame error.
    """

    def __init__(self, sync: FrameSynchronizer, translator: TranslatorLike,
                 publish: Callable[[Frame, dict[str, Any]], None], *,
                 aux_keys: Mapping[str, str] | None = None, style: StyleSpec | None = None,
                 seed: int | None = None, image_topic: str = "image",
                 camera_info_topic: str = "camera_info",
                 alive: Callable[[], bool] = lambda: True):
        self.sync = sync
        self.translator = translator
        self.publish = publish
        self.step_fn = MessageTranslator(translator.translate, aux_keys)
        self.image_topic, self.camera_info_topic = image_topic, camera_info_topic
        self.alive = alive
        self.episode = 0  # episode of the last frame handled (the synchroniser's numbering)
        self.faults = FaultLog(log)
        self.errors = 0
        self.style_info = "none"
        self._has_style = translator.manifest.style_dim > 0
        self._rng = random.Random(seed)
        self._style = style or StyleSpec("random")
        self._style_dirty = True
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- control ------------------------------------------------------------------------
    def request_style(self, spec: StyleSpec) -> None:
        """Switch style before the next frame (thread-safe)."""
        with self._lock:
            self._style = spec
            self._style_dirty = True

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim2real_translate",
                                        daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to end after the current frame (does not wait)."""
        self._stop.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- loop ---------------------------------------------------------------------------
    def _apply_style(self, new_episode: bool) -> None:
        with self._lock:
            spec, dirty = self._style, self._style_dirty
            self._style_dirty = False
        if not self._has_style or not (dirty or (new_episode and spec.kind == "random")):
            return
        arg = style_value(spec, self._rng)
        self.translator.set_style(arg)
        self.style_info = (f"random seed {arg}" if spec.kind == "random"
                           else f"{spec.kind} {spec.value}")
        log.info("episode %d: style %s", self.episode, self.style_info)

    def step(self, frame: Frame) -> None:
        """Translate and publish one frame (the loop body; also used by tests).

        Raises:
            FrameFault: the frame cannot be read, checked or translated (nothing published).
        """
        new_episode = frame.episode != self.episode
        self.episode = frame.episode
        self._apply_style(new_episode)
        image = frame.image
        info = (self.camera_info_topic, frame.camera_info) if frame.camera_info is not None \
            else None
        check_part_sizes(image.height, image.width, frame.labels, info, frame.stamp_ns)
        fields = self.step_fn.translate_frame(image, frame.labels, image_topic=self.image_topic,
                                              stamp_ns=frame.stamp_ns)
        self.publish(frame, fields)
        self.sync.mark_published(frame)

    def _stopping(self) -> bool:
        """Asked to stop, or the middleware is gone (nothing can be published any more)."""
        return self._stop.is_set() or not self.alive()

    def _run(self) -> None:
        while not self._stopping():
            frame = self.sync.wait(timeout_s=0.1)
            if frame is None:
                self.sync.expire()
                continue
            if self._stopping():  # the context went while this thread waited
                return
            try:
                self.step(frame)
            except FrameFault as fault:  # counted skip: decode / size_mismatch / translate
                self.errors += 1
                self.sync.stats.drop_frame(fault.reason)
                self.faults.record(fault)
            except Exception as exc:  # noqa: BLE001 - one bad frame must not stop the node
                if self._stopping():  # a publish raced the shutdown: not a frame error
                    log.debug("frame %d not published, shutting down: %s", frame.stamp_ns,
                              exc)
                    return
                self.errors += 1
                self.sync.stats.drop_frame("error")
                if self.errors <= 5 or self.errors % 100 == 0:
                    log.error("frame %d not translated (%d errors so far): %s",
                              frame.stamp_ns, self.errors, exc)
