"""Offline twin of the translator node: translate the image topic of a rosbag2.

The same :class:`FrameSynchronizer` as the node (``ordered`` policy, hold measured in bag log
time) pairs each image with its labels and camera_info by header stamp. For every complete
frame the translated image (input header, input log time) and the frame's labels and
camera_info (byte-identical, their own log times) are written under the output namespace.
Every other topic is copied byte-identically under its own name as it is read. A label is
never written without its translated image, nor with another stamp (with ``slop_ns`` 0).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
from sim2real_gan.io.ros_types import CAMERA_INFO, IMAGE, msg_class, typestore
from sim2real_gan.pipeline.message_step import MessageTranslator, StepTimes
from sim2real_gan.pipeline.stats import ManualClock, StatsSnapshot
from sim2real_gan.pipeline.sync import Frame, FrameSynchronizer, SyncConfig


@dataclass(frozen=True)
class BagTranslateConfig:
    """What to translate and where it goes.

    Args:
        image_topic: input image topic; its parent is the *input namespace*.
        output_ns: namespace of the translated image, labels and camera_info.
        label_topics: label topics to carry; None = every other stamped topic in the input
            namespace (except camera_info).
        camera_info: carry ``<input ns>/camera_info`` when the bag has it.
        keep_input: also copy the input namespace's topics unchanged under their own names.
        storage: ``"mcap"`` or ``"sqlite3"``; None = the input bag's storage.
        overwrite: replace an existing output bag.
        slop_ns, hold_ns, max_pending: synchroniser settings (hold in bag log time).
        progress: show a tqdm bar.
    """

    image_topic: str = "/sim/camera/image_raw"
    output_ns: str = "/realistic/camera"
    label_topics: tuple[str, ...] | None = None
    camera_info: bool = True
    keep_input: bool = False
    storage: str | None = None
    overwrite: bool = False
    slop_ns: int = 0
    hold_ns: int = 1_000_000_000
    max_pending: int = 64
    progress: bool = True

    @property
    def input_ns(self) -> str:
        return self.image_topic.rsplit("/", 1)[0]


@dataclass
class TopicPlan:
    """Input topic -> output topic for the frame parts; the rest is copied as is."""

    image: tuple[str, str]
    labels: dict[str, str]  # input label topic -> output topic
    camera_info: tuple[str, str] | None
    passthrough: list[str]  # copied under their own name

    @property
    def frame_topics(self) -> dict[str, str]:
        out = {self.image[0]: self.image[1], **self.labels}
        if self.camera_info:
            out[self.camera_info[0]] = self.camera_info[1]
        return out


@dataclass
class BagTranslateReport:
    """What happened: frame counts, drops, timings, the output topics."""

    images_in: int
    frames_out: int
    messages_copied: int
    output_topics: dict[str, str]
    stats: StatsSnapshot
    times: StepTimes
    wall_s: float
    message_path_s: float  # CDR decode + translate step + CDR encode, summed over frames
    plan: TopicPlan = field(repr=False)

    @property
    def message_path_fps(self) -> float:
        return self.frames_out / self.message_path_s if self.message_path_s > 0 else 0.0

    def line(self) -> str:
        drops = ", ".join(f"{k} {v}" for k, v in sorted(self.stats.frame_drops.items()))
        return (f"{self.frames_out}/{self.images_in} frames translated"
                f"{' (dropped: ' + drops + ')' if drops else ''}, {self.messages_copied} "
                f"other messages copied; engine {self.times.engine_fps:.1f} fps, message path "
                f"(CDR decode + translate + CDR encode) {self.message_path_fps:.1f} fps, "
                f"wall {self.wall_s:.1f} s")


def _out_topic(topic: str, input_ns: str, output_ns: str) -> str:
    rel = topic[len(input_ns) + 1:] if topic.startswith(input_ns + "/") else topic.lstrip("/")
    return f"{output_ns.rstrip('/')}/{rel}"


def plan_topics(topics: dict[str, str], cfg: BagTranslateConfig) -> TopicPlan:
    """Decide which input topic goes where; BagError for a missing or unusable topic."""
    if cfg.image_topic not in topics:
        raise BagError(f"image topic {cfg.image_topic} is not in the bag; it has "
                       f"{sorted(topics)} (use --image-topic)")
    if topics[cfg.image_topic] != IMAGE:
        raise BagError(f"{cfg.image_topic} is {topics[cfg.image_topic]}, expected {IMAGE}")
    ns = cfg.input_ns
    info = f"{ns}/camera_info"
    has_info = cfg.camera_info and topics.get(info) == CAMERA_INFO
    if cfg.label_topics is None:
        labels = [t for t in sorted(topics) if t.startswith(ns + "/")
                  and t not in (cfg.image_topic, info) and has_header(topics[t])]
    else:
        labels = list(cfg.label_topics)
        for t in labels:
            if t not in topics:
                raise BagError(f"label topic {t} is not in the bag; it has {sorted(topics)}")
            if not has_header(topics[t]):
                raise BagError(f"label topic {t} ({topics[t]}) has no header stamp to sync on")
    plan = TopicPlan(
        image=(cfg.image_topic, _out_topic(cfg.image_topic, ns, cfg.output_ns)),
        labels={t: _out_topic(t, ns, cfg.output_ns) for t in labels},
        camera_info=(info, _out_topic(info, ns, cfg.output_ns)) if has_info else None,
        passthrough=[],
    )
    frame_in = set(plan.frame_topics)
    plan.passthrough = [t for t in sorted(topics)
                        if t not in frame_in or (cfg.keep_input and t.startswith(ns + "/"))]
    outs = list(plan.frame_topics.values()) + plan.passthrough
    clash = {t for t in outs if outs.count(t) > 1}
    if clash:
        raise BagError(f"output topics collide: {sorted(clash)}; choose another --output-ns")
    return plan


def translate_bag(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    step: MessageTranslator,
    cfg: BagTranslateConfig = BagTranslateConfig(),
    on_frame: Callable[[Frame, Any, dict], None] | None = None,
) -> BagTranslateReport:
    """Translate ``in_path`` into a new bag at ``out_path`` (atomic).

    Args:
        step: decode -> translate -> encode (its ``aux_keys`` name input label topics).
        on_frame: optional callback(frame, decoded input image, output Image fields), e.g.
            for previews.
    Raises:
        BagError: missing/corrupt/truncated input or an unusable topic choice.
        FileExistsError: ``out_path`` exists and not ``cfg.overwrite``.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.resolve() == in_path.resolve():
        raise BagError(f"output {out_path} is the input bag; choose another path")
    if out_path.exists() and not cfg.overwrite:
        raise FileExistsError(f"output bag {out_path} already exists (use --force)")
    t_start = time.perf_counter()
    with BagReader(in_path) as reader:
        topics, defs = reader.topics, reader.topic_defs
        plan = plan_topics(topics, cfg)
        for name, key in step.aux_keys.items():
            if key not in plan.labels:
                raise BagError(f"the model needs {name} from {key}, which is not a label "
                               f"topic of this bag (labels: {sorted(plan.labels)})")
        clock = ManualClock(0)
        sync = FrameSynchronizer(SyncConfig(
            label_keys=tuple(plan.labels), camera_info=plan.camera_info is not None,
            slop_ns=cfg.slop_ns, hold_ns=cfg.hold_ns, max_pending=cfg.max_pending,
            policy="ordered"), clock=clock)
        image_cls = msg_class(IMAGE)
        storage = cfg.storage or reader.storage
        images_in = copied = frames_out = 0
        path_s = 0.0
        store = typestore()
        with BagWriter(out_path, storage=storage, overwrite=cfg.overwrite) as writer:
            for src, dst in plan.frame_topics.items():
                writer.add_topic(dst, topics[src], definition=defs[src])
            for t in plan.passthrough:
                writer.add_topic(t, topics[t], definition=defs[t])

            def emit(frames: list[Frame]) -> None:
                nonlocal frames_out
                nonlocal path_s
                for frame in frames:
                    t0 = time.perf_counter()
                    img_rec: BagMessage = frame.image
                    image = img_rec.decode()
                    labels = {k: frame.labels[k].decode() for k in step.aux_keys.values()}
                    fields = step(image, labels)
                    raw = store.serialize_cdr(image_cls(header=image.header, **fields), IMAGE)
                    path_s += time.perf_counter() - t0
                    writer.write_raw(plan.image[1], img_rec.stamp_ns, raw)
                    for key, rec in frame.labels.items():
                        writer.write_raw(plan.labels[key], rec.stamp_ns, rec.raw)
                    if plan.camera_info is not None:
                        rec = frame.camera_info
                        writer.write_raw(plan.camera_info[1], rec.stamp_ns, rec.raw)
                    sync.mark_published(frame)
                    frames_out += 1
                    if on_frame is not None:
                        on_frame(frame, image, fields)

            passthrough = set(plan.passthrough)
            keys = {plan.image[0]: "image", **{t: t for t in plan.labels}}
            if plan.camera_info:
                keys[plan.camera_info[0]] = "camera_info"
            bar = tqdm(total=reader.message_count, unit="msg", disable=not cfg.progress,
                       desc=f"translate {in_path.name}")
            for rec in reader.messages():
                bar.update(1)
                clock.set(rec.stamp_ns)
                if rec.topic in passthrough:
                    writer.write_raw(rec.topic, rec.stamp_ns, rec.raw)
                    copied += 1
                key = keys.get(rec.topic)
                if key is None:
                    continue
                images_in += key == "image"
                sync.add(key, cdr_header_stamp_ns(rec.raw), rec)
                emit(sync.drain())
            emit(sync.finish())
            bar.close()
    return BagTranslateReport(
        images_in=images_in, frames_out=frames_out, messages_copied=copied,
        output_topics={**{d: topics[s] for s, d in plan.frame_topics.items()},
                       **{t: topics[t] for t in plan.passthrough}},
        stats=sync.snapshot(), times=step.times, wall_s=time.perf_counter() - t_start,
        message_path_s=path_s, plan=plan)

