"""The message path of one stereo pair: both eyes decoded, translated as one batch, encoded.

Shared by the node (rclpy messages) and ``translate-bag --stereo`` (rosbags messages). A
synchronised :class:`~sim2real_gan.pipeline.sync_types.Frame` of a
:class:`~sim2real_gan.pipeline.stereo_topics.StereoPlan` is split into the two eyes
(:func:`split_frame`); :class:`StereoTranslator` checks them (each eye's labels and
camera_info against its image, then the two eyes against each other), runs
``translate_batch`` once with B=2 (one call, one style for both eyes), with both eyes' depth
rebuilds the right eye's pixels that the left eye also sees from the left translation
(:mod:`~sim2real_gan.pipeline.stereo_reproject`), and encodes each output in its eye's input
encoding. Any failure is a :class:`~sim2real_gan.pipeline.faults.FrameFault` for the whole
pair: one eye is never published without the other.

:class:`BaselineCheck` looks at the right camera_info: ``P[3]`` must be ``-fx * baseline``
(negative). A zero (no baseline: stereo_image_proc cannot triangulate) or a positive value
(eyes swapped) is logged once per problem and counted; the pair is still translated and the
camera_info forwarded as it is (translation does not use it; docs/stereo.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim2real_gan.artifact.pixels import check_frames
from sim2real_gan.io.image_codec import from_rgb8, numpy_to_image_fields
from sim2real_gan.pipeline.faults import FrameFault, check_part_sizes
from sim2real_gan.pipeline.message_step import COLOUR_ENCODINGS, MessageTranslator, StepTimes
from sim2real_gan.pipeline.stereo_reproject import RightFromLeft
from sim2real_gan.pipeline.stereo_topics import EYES, StereoPlan
from sim2real_gan.pipeline.sync_types import IMAGE_KEY, Frame

log = logging.getLogger(__name__)


@dataclass
class Eye:
    """One eye's parts of a stereo frame: messages as the synchroniser holds them."""

    image: Any
    labels: dict[str, Any]
    camera_info: Any | None
    image_topic: str
    camera_info_topic: str | None


def split_frame(frame: Frame, plan: StereoPlan) -> dict[str, Eye]:
    """{"left": Eye, "right": Eye} of a frame synchronised with ``plan.frame``."""
    left, right = plan.left, plan.right
    info_l = left.camera_info.src if left.camera_info else None
    info_r = plan.right_camera_info_key
    return {
        "left": Eye(frame.image, {k: frame.labels[k] for k in left.label_routes},
                    frame.camera_info, left.image.src, info_l),
        "right": Eye(frame.labels[plan.right_image_key],
                     {k: frame.labels[k] for k in right.label_routes},
                     frame.labels[info_r] if info_r else None, right.image.src, info_r),
    }


def check_eyes(eyes: Mapping[str, Eye], stamp_ns: int,
               label_images: Callable[[Eye], Mapping[str, Any]] = lambda e: e.labels) -> None:
    """Each eye's label images and camera_info have its image's size, and both images have
    one size; FrameFault (``size_mismatch`` / ``decode``) otherwise. ``label_images`` picks
    the labels that are images (all of them in the node)."""
    for eye in eyes.values():
        info = (eye.camera_info_topic, eye.camera_info) if eye.camera_info is not None else None
        check_part_sizes(eye.image.height, eye.image.width, label_images(eye), info, stamp_ns)
    left, right = eyes["left"].image, eyes["right"].image
    if (left.height, left.width) != (right.height, right.width):
        raise FrameFault("size_mismatch", eyes["right"].image_topic, stamp_ns,
                         f"right eye is {right.width}x{right.height}, left eye "
                         f"{left.width}x{left.height} ({eyes['left'].image_topic}); both eyes "
                         "of a pair must have one size")


class StereoTranslator:
    """A stereo pair (two Image messages + aux labels) -> two translated Image field dicts.

    Args:
        translate_batch: ``f(frames uint8 (2,H,W,3), **aux) -> uint8 (2,H,W,3)``, e.g.
            ``Translator.translate_batch`` (aux keyword arguments: lists of two float32
            (H,W[,C]) arrays, left then right). One call per pair: both eyes get one style.
        aux_keys: eye -> {aux input name -> label key}, e.g. from
            :meth:`StereoPlan.aux_topics`.
        output_encoding: as :class:`MessageTranslator` (None = each eye's input encoding).
        right_from_left: rebuild the right eye from the left translation with both eyes'
            depth (:class:`~sim2real_gan.pipeline.stereo_reproject.RightFromLeft`), or None.
    """

    def __init__(self, translate_batch: Callable[..., np.ndarray],
                 aux_keys: Mapping[str, Mapping[str, str]] | None = None,
                 output_encoding: str | None = None,
                 right_from_left: RightFromLeft | None = None):
        if output_encoding is not None and output_encoding not in COLOUR_ENCODINGS:
            raise ValueError(f"output_encoding must be one of {COLOUR_ENCODINGS}, got "
                             f"{output_encoding!r}")
        self._translate_batch = translate_batch
        self.aux_keys = {e: dict((aux_keys or {}).get(e, {})) for e in EYES}
        if set(self.aux_keys["left"]) != set(self.aux_keys["right"]):
            raise ValueError(f"both eyes need the same aux inputs, got {self.aux_keys}")
        self.output_encoding = output_encoding
        self.right_from_left = right_from_left
        self.times = StepTimes()  # frames = pairs

    def translate_pair(self, eyes: Mapping[str, Eye], stamp_ns: int) -> dict[str, dict]:
        """{"left": Image fields, "right": Image fields}; FrameFault (``decode`` of an image or
        aux stream, ``translate``) naming the eye's topic. Sizes are checked by the caller
        (:func:`check_eyes`)."""
        t0 = time.perf_counter()
        rgb, aux = [], {name: [] for name in self.aux_keys["left"]}
        for e in EYES:
            eye = eyes[e]
            try:
                rgb.append(MessageTranslator._decode_image(eye.image))
            except ValueError as exc:
                raise FrameFault("decode", eye.image_topic, stamp_ns, str(exc)) from exc
            for name, key in self.aux_keys[e].items():
                try:
                    aux[name].append(MessageTranslator._decode_aux(key, eye.labels))
                except (ValueError, KeyError) as exc:
                    raise FrameFault("decode", key, stamp_ns, f"aux input {name}: {exc}") from exc
        t1 = time.perf_counter()
        try:
            out = self._translate_batch(np.stack(rgb), **aux)
            check_frames(out, "translator output", batched=True, shape=(2, *rgb[0].shape))
        except Exception as exc:  # noqa: BLE001 - any engine failure is this pair's fault
            raise FrameFault("translate", eyes["left"].image_topic, stamp_ns,
                             f"stereo pair: {type(exc).__name__}: {exc}") from exc
        t2 = time.perf_counter()  # engine time: the batch call only
        if self.right_from_left is not None:
            out = self.right_from_left.apply(out, eyes, stamp_ns)
        fields = {e: self._encode(out[i], eyes[e].image.encoding) for i, e in enumerate(EYES)}
        self.times.frames += 1
        self.times.engine_s += t2 - t1
        self.times.total_s += time.perf_counter() - t0
        return fields

    def _encode(self, rgb: np.ndarray, in_encoding: str) -> dict[str, Any]:
        enc = self.output_encoding or (in_encoding if in_encoding in COLOUR_ENCODINGS
                                       else "rgb8")
        return numpy_to_image_fields(from_rgb8(rgb, enc), enc)


BASELINE_PROBLEMS = {
    "zero": "P[3] is 0: no stereo baseline (a rectified right camera has P[3] = -fx * "
            "baseline); stereo_image_proc cannot triangulate depth from this pair",
    "positive": "P[3] is positive: the 'right' eye sits to the left of the left eye (eyes "
                "swapped?); a right camera has P[3] = -fx * baseline < 0",
}


class BaselineCheck:
    """Checks the right camera_info's ``P[3]`` (= -fx * baseline); logs each problem once
    (one line naming the topic and the value) and counts every pair that has it. Never
    drops: the pair is translated and the camera_info forwarded unchanged."""

    def __init__(self, logger: logging.Logger = log):
        self.logger = logger
        self.counts: dict[str, int] = {}

    def check(self, topic: str, info: Any) -> str | None:
        """The problem key ("zero" / "positive") of this camera_info, or None."""
        p = np.asarray(info.p, dtype=np.float64).reshape(-1)
        if p.size != 12:
            return None  # the codec / size checks name a malformed camera_info
        problem = "zero" if p[3] == 0 else ("positive" if p[3] > 0 else None)
        if problem is not None:
            self.counts[problem] = self.counts.get(problem, 0) + 1
            if self.counts[problem] == 1:
                self.logger.warning("%s: %s (P = %s); pairs are still translated and this "
                                    "camera_info forwarded as it is (counted: see the summary)",
                                    topic, BASELINE_PROBLEMS[problem],
                                    np.array2string(p, precision=3, separator=", "))
        return problem

    def summary(self) -> str:
        """``right camera_info without baseline in 12 pairs`` or ``none``."""
        names = {"zero": "without a baseline (P[3] = 0)", "positive": "with P[3] > 0"}
        return ", ".join(f"right camera_info {names[k]} in {n} pairs"
                         for k, n in sorted(self.counts.items())) or "none"


def never_matched(received: Mapping[str, int], pairs_out: int, plan: StereoPlan,
                  first_stamps: Mapping[str, int] | None = None) -> str | None:
    """One line when both eyes' images arrived but no pair ever completed (their stamps
    never matched), else None. ``received``: messages per synchroniser key."""
    left, right = received.get(IMAGE_KEY, 0), received.get(plan.right_image_key, 0)
    if pairs_out or not left or not right:
        return None
    first = ""
    if first_stamps and len(first_stamps) == 2:
        d = (first_stamps["right"] - first_stamps["left"]) / 1e6
        first = f"; the first right header.stamp is {d:+.3f} ms from the first left one"
    return (f"no stereo pair matched: {left} images on {plan.left.image.src} and {right} on "
            f"{plan.right.image.src}, but never with the same header.stamp{first}; both "
            "eyes of a pair must carry one stamp (or allow a difference: --slop-ms, the "
            "node's sync_tolerance_ms)")
