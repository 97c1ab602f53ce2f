"""The node's translation loop for a stereo pair (no rclpy).

Same thread, style and fault handling as :class:`~sim2real_gan.node.worker.TranslationWorker`;
a frame is a stereo pair synchronised with :attr:`StereoPlan.frame` (both eyes' images,
labels and camera_infos at one stamp). Each pair is checked (per eye, and eye against eye),
translated in one ``translate_batch`` call (so both eyes share the episode's style) and
handed to ``publish(frame, {"left": fields, "right": fields})``; a fault drops the pair.
The right camera_info's baseline is checked (:class:`~sim2real_gan.pipeline.stereo_step.
BaselineCheck`: one warning line, counted, never a drop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim2real_gan.node.params import StyleSpec
from sim2real_gan.node.worker import TranslationWorker
from sim2real_gan.pipeline import Frame, FrameSynchronizer
from sim2real_gan.pipeline.stereo_reproject import right_from_left_for
from sim2real_gan.pipeline.stereo_step import (
    BaselineCheck,
    StereoTranslator,
    check_eyes,
    split_frame,
)
from sim2real_gan.pipeline.stereo_topics import StereoPlan

if TYPE_CHECKING:
    from sim2real_gan.runtime import TranslatorLike

log = logging.getLogger(__name__)


class StereoTranslationWorker(TranslationWorker):
    """Thread: wait for a stereo pair, translate both eyes as one batch, publish both.

    Args:
        sync: the synchroniser (``SyncConfig`` from ``plan.frame``, the right image a peer).
        translator: a started Translator (``translate_batch`` is used).
        publish: ``publish(frame, {"left": image fields, "right": image fields})``.
        plan: both eyes' routes, aux streams included (:meth:`StereoPlan.with_labels`).
        aux_names: the model's aux input name -> topic name beside each eye's image.
        depth_topic: each eye's depth topic (relative); when the plan carries it for both
            eyes with camera_info, the right eye is rebuilt from the left translation
            (:mod:`sim2real_gan.pipeline.stereo_reproject`); "" = off.
        style, seed, alive: as the mono worker.
    """

    def __init__(self, sync: FrameSynchronizer, translator: TranslatorLike,
                 publish: Callable[[Frame, dict[str, Any]], None], *, plan: StereoPlan,
                 aux_names: dict[str, str] | None = None, depth_topic: str = "",
                 style: StyleSpec | None = None,
                 seed: int | None = None, alive: Callable[[], bool] = lambda: True):
        super().__init__(sync, translator, publish, style=style, seed=seed,
                         image_topic=plan.left.image.src, alive=alive)
        self.plan = plan
        right_from_left, why = right_from_left_for(plan, depth_topic)
        log.info("%s", why)
        self.step_fn = StereoTranslator(translator.translate_batch,
                                        aux_keys=plan.aux_topics(aux_names or {}),
                                        right_from_left=right_from_left)
        self.baseline = BaselineCheck(log)

    def step(self, frame: Frame) -> None:
        """Translate and publish one pair (the loop body; also used by tests).

        Raises:
            FrameFault: a part of either eye cannot be read, checked or translated, or the
                eyes differ in size (nothing published).
        """
        new_episode = frame.episode != self.episode
        self.episode = frame.episode
        self._apply_style(new_episode)
        eyes = split_frame(frame, self.plan)
        check_eyes(eyes, frame.stamp_ns)
        fields = self.step_fn.translate_pair(eyes, frame.stamp_ns)
        right = eyes["right"]
        if right.camera_info is not None:
            self.baseline.check(right.camera_info_topic, right.camera_info)
        self.publish(frame, fields)
        self.sync.mark_published(frame)
