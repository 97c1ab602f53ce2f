"""rosbag2 recordings (MCAP or sqlite3) as frame sequences.

Reading, stamp matching, size checks and camera poses are the core's
(:mod:`sim2real_gan.io.recording`, shared with evaluation and ``dump``); this module turns
a :class:`~sim2real_gan.io.recording.Recording` into a :class:`Part` of lazily decoded
:class:`BagFrame`s (raw CDR bytes kept, decoded in the workers).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sim2real_gan.io.recording import read_recording, split_on_gaps

from .frames import BagFrame
from .source_data import Part

if TYPE_CHECKING:
    from .sources import SourceConfig


def read_bag_part(path: str, role: str, wanted: tuple[str, ...], cfg: SourceConfig,
                  size: tuple[int, int] | None) -> Part:
    """One bag as a :class:`Part` with the image and every wanted field it has."""
    topics = cfg.topics
    if cfg.stereo and role == "sim":  # the left eye is the frame, the right eye a field
        from sim2real_gan.io.bag import BagReader

        from .stereo import bag_topic_choice

        with BagReader(path) as reader:
            topics = bag_topic_choice(reader.topics, cfg, role, f"bag {path}")
    rec = read_recording(path, wanted, topics, cfg.namespace, role)
    frames = [BagFrame(rec.parts[s], size=size, label_channel=cfg.label_channel,
                       where=rec.frame_where(s)) for s in rec.stamps]
    h, w = rec.check_first(cfg.label_channel)
    info = [" ".join(f"{k}={t}" for k, t in rec.topics.items())]
    cams, pose_note = rec.cameras(cfg.tf_frame, cfg.tf_convention)
    for f, cam in zip(frames, cams or [], strict=False):
        f.camera = cam
    if pose_note:
        info.append(pose_note)
    ignored = sorted({"/tf", "/tf_static", "/clock"} & set(rec.types) - (
        {"/tf", "/tf_static"} if rec.tf is not None else set()))
    if ignored:
        info.append(f"{', '.join(ignored)} not used")
    seqs = [[frames[i] for i in idx] for idx in split_on_gaps(rec.stamps)]
    return Part(Path(path).name, seqs, rec.fields, (h, w), rec.fps, len(rec.stamps), info)
