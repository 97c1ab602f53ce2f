"""Offline twin of the translator node: translate the image topic of a rosbag2.

The same :class:`FrameSynchronizer` as the node (``ordered`` policy, hold measured in bag log
time; the same reorder window and reset rule) pairs each image with its labels and
camera_info by header stamp, and the same topic plan (:mod:`sim2real_gan.pipeline.topics`)
names the outputs. For every complete frame the translated image (input header, input log
time) and the frame's labels and camera_info (byte-identical, their own log times) are
written under the output namespace. Every other topic is copied byte-identically under its
own name as it is read. A label is never written without its translated image, nor with
another stamp (with ``slop_ns`` 0).

Per-frame faults (garbage CDR, truncated data, a refused encoding, a label or camera_info
of another size than its image, a translator failure) skip that frame and are counted with
their reason, topic and stamp (:mod:`sim2real_gan.pipeline.faults`); they never abort the run.
The output bag is written atomically and only when at least one frame was translated.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim2real_gan.io.bag import (
    BagError,
    BagMessage,
    BagReader,
    BagWriter,
    cdr_header_stamp_ns,
    has_header,
)
from sim2real_gan.io.cdr_peek import CdrError, peek_image
from sim2real_gan.io.ros_types import CAMERA_INFO, IMAGE, msg_class, stamp_to_ns, typestore
from sim2real_gan.pipeline.bag_config import BagTranslateConfig
from sim2real_gan.pipeline.bag_report import BagTranslateReport

__all__ = ["BagPart", "BagTranslateConfig", "BagTranslateReport", "plan_topics",
           "translate_bag"]
from sim2real_gan.pipeline.faults import FaultLog, FrameFault, check_part_sizes
from sim2real_gan.pipeline.message_step import MessageTranslator
from sim2real_gan.pipeline.stats import ManualClock
from sim2real_gan.pipeline.sync import (
    CAMERA_INFO_KEY,
    IMAGE_KEY,
    Frame,
    FrameSynchronizer,
    SyncConfig,
)
from sim2real_gan.pipeline.topics import TopicPlan, relative_to

log = logging.getLogger(__name__)


def plan_topics(topics: dict[str, str], cfg: BagTranslateConfig,
                aux: Mapping[str, str] | None = None) -> tuple[TopicPlan, list[str]]:
    """The topic plan for this bag and the topics copied as they are. ``aux`` (model input
    name -> topic) adds the model's aux streams to the labels, as the node does.

    Raises:
        TopicError: a bad name or combination of flags.
        BagError: a topic missing from the bag or unusable.
    """
    plan = cfg.request().plan()
    image = plan.image.src
    if image not in topics:
        raise BagError(f"image topic {image} is not in the bag; it has {sorted(topics)} "
                       "(use --image-topic)")
    if topics[image] != IMAGE:
        raise BagError(f"{image} is {topics[image]}, expected {IMAGE}")
    info = plan.camera_info.src if plan.camera_info else None
    if info is not None and topics.get(info) != CAMERA_INFO:
        plan = cfg.request(with_camera_info=False).plan()  # carried only when the bag has it
    if cfg.label_topics is None:
        found = [t for t in sorted(topics) if relative_to(plan.input_ns, t) is not None
                 and t not in (image, info) and has_header(topics[t])]
        plan = plan.with_labels(found)
    for name, t in (aux or {}).items():
        if t not in topics:
            raise BagError(f"the model needs {name} from {t}, which is not in the bag; it has "
                           f"{sorted(topics)}")
    plan = plan.with_labels((aux or {}).values())
    for t, _ in plan.labels:
        if t not in topics:
            raise BagError(f"label topic {t} is not in the bag; it has {sorted(topics)}")
        if not has_header(topics[t]):
            raise BagError(f"label topic {t} ({topics[t]}) has no header stamp to sync on")
    frame_in = {r.src for r in plan.routes}
    passthrough = [t for t in sorted(topics) if t not in frame_in
                   or (cfg.keep_input and relative_to(plan.input_ns, t) is not None)]
    outs = [r.dst for r in plan.routes] + passthrough
    clash = {t for t in outs if outs.count(t) > 1}
    if clash:
        raise BagError(f"output topics collide: {sorted(clash)}; choose another --output-ns")
    return plan, passthrough


class BagPart:
    """A frame part read from the bag: the stored ``record`` and ``msg``, what the pipeline
    reads: the decoded message for the image and camera_info, a zero-copy
    :class:`~sim2real_gan.io.cdr_peek.ImageView` for label images (enough for the size checks
    and the image codec), None for labels of other types. ``decode()`` always gives the full
    rosbags message, as on a :class:`BagMessage`."""

    def __init__(self, record: BagMessage, msg: Any, decode_s: float):
        self.record, self.msg, self.decode_s = record, msg, decode_s
        self.topic, self.raw, self.stamp_ns = record.topic, record.raw, record.stamp_ns

    def decode(self) -> Any:
        return self.record.decode()


def _read_part(rec: BagMessage, key: str, full: bool = False) -> tuple[BagPart, int]:
    """Read one frame part and its header stamp; FrameFault (``decode``) if it is garbage.
    The image and camera_info (and any part with ``full``, e.g. the right eye's image and
    camera_info) are deserialised, label images peeked (checked, zero-copy), other labels
    only stamped (they are forwarded as they are)."""
    t0 = time.perf_counter()
    try:
        if full or key in (IMAGE_KEY, CAMERA_INFO_KEY):
            msg = rec.decode()
            stamp = stamp_to_ns(msg.header.stamp)
        elif rec.msgtype == IMAGE:
            msg = peek_image(rec.raw)
            stamp = msg.stamp_ns
        else:
            msg, stamp = None, cdr_header_stamp_ns(rec.raw)
    except (BagError, CdrError) as exc:
        try:
            stamp = cdr_header_stamp_ns(rec.raw)
        except BagError:
            stamp = None
        raise FrameFault("decode", rec.topic, stamp, str(exc)) from exc
    return BagPart(rec, msg, time.perf_counter() - t0), stamp


class _NothingTranslated(Exception):
    """Raised inside the writer so that it discards an output without translated frames."""


class _Run:
    """One translation: feeds bag records to the synchroniser, writes complete frames."""

    def __init__(self, plan: TopicPlan, topics: dict[str, str], step: Any,
                 cfg: BagTranslateConfig, on_frame: Callable[[Frame, Any, dict], None] | None,
                 peer_image_keys: tuple[str, ...] = ()):
        self.plan, self.step, self.on_frame = plan, step, on_frame
        self.clock = ManualClock(0)
        self.sync = FrameSynchronizer(SyncConfig(
            label_keys=tuple(plan.label_routes), camera_info=plan.camera_info is not None,
            slop_ns=cfg.slop_ns, hold_ns=cfg.hold_ns, max_pending=cfg.max_pending,
            policy="ordered", reorder_ns=cfg.reorder_ns, episode_gap_ns=cfg.episode_gap_ns,
            peer_image_keys=peer_image_keys), clock=self.clock)
        self.full_keys: set[str] = set()  # label keys read in full (stereo: right image, info)
        self.keys = {plan.image.src: IMAGE_KEY, **{t: t for t in plan.label_routes}}
        if plan.camera_info:
            self.keys[plan.camera_info.src] = CAMERA_INFO_KEY
        self.image_labels = [t for t in plan.label_routes if topics[t] == IMAGE]
        self.faults = FaultLog(log)
        self.image_cls, self.store = msg_class(IMAGE), typestore()
        self.writer: BagWriter | None = None
        self.images_in = self.frames_out = 0
        self.path_s = 0.0

    def feed(self, rec: BagMessage) -> None:
        """One frame-part record (image, label or camera_info) in bag order."""
        key = self.keys[rec.topic]
        self.images_in += key == IMAGE_KEY
        try:
            part, stamp = _read_part(rec, key, full=key in self.full_keys)
        except FrameFault as fault:
            self.faults.record(fault)
            if fault.stamp_ns is not None:  # the header was readable: drop that frame
                self.sync.drop_stamp(fault.stamp_ns, fault.reason)
            elif key == IMAGE_KEY:
                self.sync.stats.drop_frame(fault.reason)
            else:  # its frame will lack this part: dropped as incomplete
                self.sync.stats.drop_message(fault.reason, key=rec.topic)
            return
        self.sync.add(key, stamp, part)
        for frame in self.sync.drain():
            self.emit(frame)

    def finish(self) -> None:
        for frame in self.sync.finish():
            self.emit(frame)

    def notes(self) -> list[str]:
        """Extra lines for the report (none for a mono camera)."""
        return []

    def emit(self, frame: Frame) -> None:
        """Translate one complete frame and write it, or count it as a fault."""
        part: BagPart = frame.image
        image, stamp = part.msg, frame.stamp_ns
        info = frame.camera_info
        t0 = time.perf_counter()
        try:
            check_part_sizes(image.height, image.width,
                             {t: frame.labels[t].msg for t in self.image_labels},
                             (info.topic, info.msg) if info is not None else None, stamp)
            fields = self.step.translate_frame(image, {k: p.msg for k, p in frame.labels.items()},
                                               image_topic=part.topic, stamp_ns=stamp)
        except FrameFault as fault:
            self.faults.record(fault)
            self.sync.stats.drop_frame(fault.reason)
            return
        raw = self.store.serialize_cdr(self.image_cls(header=image.header, **fields), IMAGE)
        self.path_s += time.perf_counter() - t0 + part.decode_s
        self.writer.write_raw(self.plan.image.dst, part.stamp_ns, raw)
        for key, p in frame.labels.items():
            self.writer.write_raw(self.plan.label_routes[key], p.stamp_ns, p.raw)
        if info is not None:
            self.writer.write_raw(self.plan.camera_info.dst, info.stamp_ns, info.raw)
        self.sync.mark_published(frame)
        self.frames_out += 1
        if self.on_frame is not None:
            self.on_frame(frame, image, fields)


def translate_bag(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    step: MessageTranslator,
    cfg: BagTranslateConfig | None = None,
    on_frame: Callable[[Frame, Any, dict], None] | None = None,
) -> BagTranslateReport:
    """Translate ``in_path`` into a new bag at ``out_path`` (atomic; not written at all when
    no frame was translated: ``report.written`` is False).

    Args:
        step: decode -> translate -> encode (its ``aux_keys`` name input label topics); with
            ``cfg.stereo`` a :class:`~sim2real_gan.pipeline.stereo_step.StereoTranslator`.
        on_frame: optional callback(frame, decoded input image, output Image fields), e.g.
            for previews; the frame's parts are :class:`BagPart` s. Stereo:
            callback(frame, {eye: Eye}, {eye: output Image fields}).
    Raises:
        BagError: missing/corrupt/truncated input or an unusable topic choice.
        TopicError: a bad topic name or combination of topic flags.
        FileExistsError: ``out_path`` exists and not ``cfg.overwrite``.
    """
    cfg = cfg or BagTranslateConfig()
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.resolve() == in_path.resolve():
        raise BagError(f"output {out_path} is the input bag; choose another path")
    if out_path.exists() and not cfg.overwrite:
        raise FileExistsError(f"output bag {out_path} already exists (use --force)")
    t_start = time.perf_counter()
    with BagReader(in_path) as reader:
        topics, defs = reader.topics, reader.topic_defs
        if cfg.stereo:  # both eyes as one frame (pipeline.bag_stereo)
            from sim2real_gan.pipeline.bag_stereo import StereoRun, plan_stereo_topics
            from sim2real_gan.pipeline.stereo_reproject import right_from_left_for

            stereo, passthrough = plan_stereo_topics(topics, cfg, step.aux_keys)
            step.right_from_left, why = right_from_left_for(stereo, cfg.stereo_depth_topic)
            log.info("%s", why)
            plan, run = stereo.frame, StereoRun(stereo, topics, step, cfg, on_frame)
        else:
            plan, passthrough = plan_topics(topics, cfg, step.aux_keys)
            run = _Run(plan, topics, step, cfg, on_frame)
        copied, written = 0, True
        try:
            with BagWriter(out_path, storage=cfg.storage or reader.storage,
                           overwrite=cfg.overwrite) as run.writer:
                for src, dst in plan.routes:
                    run.writer.add_topic(dst, topics[src], definition=defs[src])
                for t in passthrough:
                    run.writer.add_topic(t, topics[t], definition=defs[t])
                copy = set(passthrough)
                bar = tqdm(total=reader.message_count, unit="msg", disable=not cfg.progress,
                           desc=f"translate {in_path.name}")
                for rec in reader.messages():
                    bar.update(1)
                    run.clock.set(rec.stamp_ns)
                    if rec.topic in copy:
                        run.writer.write_raw(rec.topic, rec.stamp_ns, rec.raw)
                        copied += 1
                    if rec.topic in run.keys:
                        run.feed(rec)
                run.finish()
                bar.close()
                if run.frames_out == 0:
                    raise _NothingTranslated
        except _NothingTranslated:
            written = False
    return BagTranslateReport(
        images_in=run.images_in, frames_out=run.frames_out, messages_copied=copied,
        output_topics={**{d: topics[s] for s, d in plan.routes},
                       **{t: topics[t] for t in passthrough}},
        stats=run.sync.snapshot(), times=step.times, wall_s=time.perf_counter() - t_start,
        message_path_s=run.path_s, plan=plan, faults=run.faults.summary(), written=written,
        unit="pairs" if cfg.stereo else "frames", notes=run.notes())
