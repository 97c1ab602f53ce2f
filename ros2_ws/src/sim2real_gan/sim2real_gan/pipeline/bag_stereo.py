"""``translate-bag --stereo``: both eyes of a stereo bag through the offline twin.

The same synchroniser and bag loop as mono (:mod:`sim2real_gan.pipeline.bag_translate`); the
frame plan is :attr:`StereoPlan.frame` (the right eye's image, camera_info and labels are
label keys of the left eye's frame, the right image a *peer image*: a pair whose left image
never comes is dropped as ``incomplete`` too). Each complete pair is checked and translated
as one batch (:class:`~sim2real_gan.pipeline.stereo_step.StereoTranslator`); both translated
images are written with their own input headers and log times, every label and camera_info of
both eyes byte-identically.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from sim2real_gan.io.bag import BagError, BagMessage, cdr_header_stamp_ns, has_header
from sim2real_gan.io.ros_types import CAMERA_INFO, IMAGE
from sim2real_gan.pipeline.bag_config import BagTranslateConfig
from sim2real_gan.pipeline.bag_translate import _Run, log
from sim2real_gan.pipeline.faults import FrameFault
from sim2real_gan.pipeline.stereo_step import (
    BaselineCheck,
    Eye,
    StereoTranslator,
    check_eyes,
    never_matched,
    split_frame,
)
from sim2real_gan.pipeline.stereo_topics import EYES, StereoPlan
from sim2real_gan.pipeline.sync import Frame
from sim2real_gan.pipeline.topics import relative_to


def plan_stereo_topics(topics: dict[str, str], cfg: BagTranslateConfig,
                       aux: Mapping[str, Mapping[str, str]] | None = None
                       ) -> tuple[StereoPlan, list[str]]:
    """The stereo plan for this bag and the topics copied as they are. Without
    ``cfg.label_topics`` each eye carries every other stamped topic of its own namespace
    (the left eye's ground-truth disparity too). ``aux``: eye -> {input name -> topic}.

    Raises:
        TopicError: a bad name or combination of flags.
        BagError: an eye's image missing from the bag, or another topic missing or unusable.
    """
    plan = cfg.stereo_request().plan()
    for eye in EYES:
        image = plan.eye(eye).image.src
        if image not in topics:
            raise BagError(f"{eye} eye: image topic {image} is not in the bag; it has "
                           f"{sorted(topics)} (use --input-ns / --image-topic / "
                           f"--{eye}-ns)")
        if topics[image] != IMAGE:
            raise BagError(f"{image} is {topics[image]}, expected {IMAGE}")
    infos = [plan.eye(e).camera_info.src for e in EYES if plan.eye(e).camera_info]
    if infos and any(topics.get(t) != CAMERA_INFO for t in infos):
        plan = cfg.stereo_request(with_camera_info=False).plan()  # both eyes, or neither
        log.warning("stereo: camera_info not carried: %s missing from the bag",
                    " and ".join(t for t in infos if topics.get(t) != CAMERA_INFO))
    found = {e: [] for e in EYES}
    if cfg.label_topics is None:
        for eye in EYES:
            p = plan.eye(eye)
            skip = {p.image.src, p.camera_info.src if p.camera_info else None}
            found[eye] = [t for t in sorted(topics) if relative_to(p.input_ns, t) is not None
                          and t not in skip and has_header(topics[t])]
    plan = plan.with_labels(found["left"], found["right"])
    aux = aux or {}
    for eye in EYES:
        for name, t in aux.get(eye, {}).items():
            if t not in topics:
                raise BagError(f"the model needs {name} from {t} ({eye} eye), which is not in "
                               f"the bag; it has {sorted(topics)}")
    plan = plan.with_labels(*(aux.get(e, {}).values() for e in EYES))
    for t, _ in plan.frame.labels:
        if t not in topics:
            raise BagError(f"label topic {t} is not in the bag; it has {sorted(topics)}")
        if not has_header(topics[t]):
            raise BagError(f"label topic {t} ({topics[t]}) has no header stamp to sync on")
    frame = plan.frame
    frame_in = {r.src for r in frame.routes}
    eye_ns = [plan.left.input_ns, plan.right.input_ns]
    passthrough = [t for t in sorted(topics) if t not in frame_in or (
        cfg.keep_input and any(relative_to(ns, t) is not None for ns in eye_ns))]
    outs = [r.dst for r in frame.routes] + passthrough
    clash = {t for t in outs if outs.count(t) > 1}
    if clash:
        raise BagError(f"output topics collide: {sorted(clash)}; choose another --output-ns")
    return plan, passthrough


class StereoRun(_Run):
    """One stereo translation: a pair per frame of ``plan.frame``."""

    def __init__(self, plan: StereoPlan, topics: dict[str, str], step: StereoTranslator,
                 cfg: BagTranslateConfig,
                 on_frame: Callable[[Frame, dict[str, Eye], dict], None] | None):
        super().__init__(plan.frame, topics, step, cfg, on_frame,
                         peer_image_keys=(plan.right_image_key,))
        self.stereo = plan
        self.full_keys = {plan.right_image_key, plan.right_camera_info_key} - {None}
        self.baseline = BaselineCheck(log)
        self.first_stamps: dict[str, int] = {}  # eye -> first image stamp (never-matched line)

    def feed(self, rec: BagMessage) -> None:
        eye = ("left" if rec.topic == self.stereo.left.image.src else
               "right" if rec.topic == self.stereo.right_image_key else None)
        if eye is not None and eye not in self.first_stamps:
            try:
                self.first_stamps[eye] = cdr_header_stamp_ns(rec.raw)
            except BagError:
                pass  # a garbage image is counted as a decode fault by feed
        super().feed(rec)

    def _eyes(self, frame: Frame) -> dict[str, Eye]:
        """The pair's parts as what the checks and the codec read (peeked or decoded)."""
        eyes = split_frame(frame, self.stereo)
        for eye in eyes.values():
            eye.image = eye.image.msg
            eye.labels = {k: p.msg for k, p in eye.labels.items()}
            eye.camera_info = eye.camera_info.msg if eye.camera_info is not None else None
        return eyes

    def emit(self, frame: Frame) -> None:
        """Check, translate and write one pair, or count it as a fault (both eyes)."""
        t0 = time.perf_counter()
        stamp, parts = frame.stamp_ns, split_frame(frame, self.stereo)
        eyes = self._eyes(frame)
        labels = set(self.image_labels)
        try:
            check_eyes(eyes, stamp, lambda e: {k: v for k, v in e.labels.items() if k in labels})
            fields = self.step.translate_pair(eyes, stamp)
        except FrameFault as fault:
            self.faults.record(fault)
            self.sync.stats.drop_frame(fault.reason)
            return
        right_info = eyes["right"].camera_info
        if right_info is not None:
            self.baseline.check(eyes["right"].camera_info_topic, right_info)
        raws = {e: self.store.serialize_cdr(
            self.image_cls(header=parts[e].image.msg.header, **fields[e]), IMAGE) for e in EYES}
        self.path_s += time.perf_counter() - t0 + sum(parts[e].image.decode_s for e in EYES)
        for e in EYES:
            image = parts[e].image
            self.writer.write_raw(self.stereo.eye(e).image.dst, image.stamp_ns, raws[e])
        right_image = self.stereo.right_image_key
        for key, p in frame.labels.items():
            if key != right_image:
                self.writer.write_raw(self.plan.label_routes[key], p.stamp_ns, p.raw)
        info = frame.camera_info
        if info is not None:
            self.writer.write_raw(self.plan.camera_info.dst, info.stamp_ns, info.raw)
        self.sync.mark_published(frame)
        self.frames_out += 1
        if self.on_frame is not None:
            self.on_frame(frame, eyes, fields)

    def notes(self) -> list[str]:
        """Lines for the report: the right eye's reprojection, the baseline check and stamps
        that never matched."""
        out = [] if not self.baseline.counts else [self.baseline.summary()]
        if self.step.right_from_left is not None and self.frames_out:
            out.insert(0, self.step.right_from_left.summary())
        problem = never_matched(self.sync.snapshot().received, self.frames_out,
                                self.stereo, self.first_stamps)
        return out + ([problem] if problem else [])
