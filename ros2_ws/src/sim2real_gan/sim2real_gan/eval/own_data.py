"""Own-data evaluation inputs: the user's footage and clips of the user's simulator bag.

- :func:`load_footage`: up to ``frames`` evenly spaced frames of a video file or a frame
  folder, its content mask (``sim2real_gan.io.footage``: scope opening minus burned-in
  text, or a mask file, or off), cropped to the content's bounding box and resized to the
  evaluation size (:mod:`.framing`).
- :func:`load_sim_clips`: clips of ``clip_frames`` consecutive frames (every ``stride``-th)
  spread evenly over a rosbag2 recording (``sim2real_gan.io.recording``: any camera bag, a
  Gazebo recording included), framed like the footage, with labels, depth and uv (for
  models with a neural texture) when recorded, and forward flow: the bag's own (``flow`` +
  ``flow_valid`` topics, stride 1) or estimated on the framed frames (``sim2real_gan.flow``: DIS + forward-backward check,
  fused with depth/camera-motion flow when depth, camera_info and /tf exist).

Errors are one line naming the file or topic and what was expected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .framing import Framing, content_box, eval_size

__all__ = ["FootageSet", "SimClips", "ClipPlan", "load_footage", "load_sim_clips",
           "pick_windows", "FLOW_GT", "FLOW_ESTIMATED"]

log = logging.getLogger("sim2real_gan.eval")

FLOW_GT = "ground-truth flow"
FLOW_ESTIMATED = "estimated flow"
MASK_MODES = ("auto", "content", "off")   # anything else is a mask image path
MASK_SAMPLES = 48


@dataclass
class FootageSet:
    """frames uint8 (M,h,w,3) framed footage (not masked); mask bool (h,w) where a pixel is
    scene (content minus text); info: what was loaded, for the report."""

    frames: np.ndarray
    mask: np.ndarray
    info: dict

    def masked(self) -> np.ndarray:
        """(M,h,w,3) with everything outside the mask black."""
        return self.frames * self.mask[None, :, :, None].astype(np.uint8)


def _read_video(path: Path, count: int) -> tuple[list[np.ndarray], dict]:
    from sim2real_gan.io.media import read_video, video_info

    info = video_info(path)
    stride = max(1, info.frames // count) if info.frames else 1
    frames = list(read_video(path, stride, count))
    return frames, {"kind": "video", "frames_in_file": info.frames, "fps": info.fps,
                    "stride": stride}


def _read_folder(path: Path, count: int) -> tuple[list[np.ndarray], dict]:
    from sim2real_gan.io.footage import sample_indices
    from sim2real_gan.io.media import IMAGE_SUFFIXES, read_image

    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"footage folder {path} has no images (expected "
                         f"{', '.join(IMAGE_SUFFIXES)} files)")
    picked = [files[i] for i in sample_indices(len(files), count)]
    frames = [read_image(p) for p in picked]
    sizes = sorted({f.shape[:2] for f in frames})
    if len(sizes) > 1:
        raise ValueError(f"footage folder {path}: images of different sizes {sizes} "
                         f"(expected one size, as from one camera)")
    return frames, {"kind": "folder", "frames_in_file": len(files), "fps": 0.0}


def _content_mask(frames: np.ndarray, mode: str, black_level: float):
    from sim2real_gan.io.footage import (
        ContentMask,
        detect_content_mask,
        load_mask_file,
        sample_indices,
    )

    if mode == "off":
        full = np.ones(frames.shape[1:3], bool)
        return ContentMask(full, full, np.zeros_like(full), "off", False)
    if mode in MASK_MODES:
        sample = frames[sample_indices(len(frames), MASK_SAMPLES)]
        return detect_content_mask(sample, black_level, text=mode == "auto")
    return load_mask_file(mode, frames.shape[1:3])


def load_footage(path: str | Path, frames: int, width: int, mask: str = "auto",
                 black_level: float = 20.0) -> FootageSet:
    """Read, mask and frame the footage (module docstring); the evaluation size is
    ``width`` wide with the content box's aspect ratio (:func:`framing.eval_size`)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"--footage: no such file or folder {p}")
    if mask not in MASK_MODES and not Path(mask).is_file():
        raise FileNotFoundError(f"--footage-mask: {mask} is neither a file nor one of {MASK_MODES}")
    raw, info = _read_folder(p, frames) if p.is_dir() else _read_video(p, frames)
    if len(raw) < 4:
        raise ValueError(f"footage {p}: {len(raw)} decodable frame(s); expected at least 4 "
                         f"(realism and the domain classifier compare sets of frames)")
    arr = np.stack(raw)
    cm = _content_mask(arr, mask, black_level)
    box = content_box(cm.content)
    framing = Framing(arr.shape[1:3], box, eval_size(width, box[2:]))
    out = np.stack([framing.image(f, f"footage {p} frame") for f in arr])
    m = framing.mask(cm.mask)
    info.update({"path": str(p), "frames": len(out), "native_size": list(arr.shape[1:3]),
                 "content_box": list(box), "mask": cm.describe(), "mask_method": cm.method,
                 "mask_fraction": float(m.mean())})
    return FootageSet(out, m, info)


@dataclass(frozen=True)
class ClipPlan:
    """How many clips of how many frames to take from the bag, and which topics to use."""

    clips: int = 8
    clip_frames: int = 8
    stride: int = 1
    profile_frames: int = 32      # one longer run for the temporal-profile figure
    image_topic: str | None = None    # None = found by name
    labels_topic: str | None = None   # None = found by name, "" = do not use labels
    depth_topic: str | None = None    # None = found by name, "" = do not use depth
    label_channel: int = 0
    flow: str = "auto"                # "auto": recorded when the bag has it | "estimate"
    flow_preset: str = "fast"

    def __post_init__(self) -> None:
        if self.clips < 1 or self.clip_frames < 2 or self.stride < 1:
            raise ValueError(f"clips >= 1, frames per clip >= 2 and stride >= 1 expected, got "
                             f"{self.clips}, {self.clip_frames}, {self.stride}")
        if self.flow not in ("auto", "estimate"):
            raise ValueError(f"--flow: expected auto or estimate, got {self.flow!r}")


@dataclass
class SimClips:
    """rgb uint8 (N,T,h,w,3); labels (N,T,h,w), depth float32 (N,T,h,w) and uv float32
    (N,T,h,w,2) when recorded (else None); flow float32 (N,T-1,h,w,2) forward and valid
    bool (N,T-1,h,w); flow_kind :data:`FLOW_GT` or :data:`FLOW_ESTIMATED`; profile:
    ``image`` uint8 (P,h,w,3) (+ depth, uv) of a longer consecutive run (P >= 2); info:
    what was used, for the report."""

    rgb: np.ndarray
    labels: np.ndarray | None
    depth: np.ndarray | None
    uv: np.ndarray | None
    flow: np.ndarray
    valid: np.ndarray
    flow_kind: str
    profile: dict[str, np.ndarray]           # image (P,h,w,3), depth/uv when recorded
    info: dict = field(default_factory=dict)


def pick_windows(lengths: list[int], span: int, count: int) -> list[tuple[int, int]]:
    """Up to ``count`` non-overlapping windows of ``span`` items, as (sequence, start),
    spread evenly over sequences of ``lengths`` (tiled starts 0, span, 2*span, ...)."""
    tiles = [(i, s) for i, n in enumerate(lengths) for s in range(0, n - span + 1, span)]
    if not tiles or count < 1:
        return []
    pick = np.unique(np.linspace(0, len(tiles) - 1, min(count, len(tiles))).round().astype(int))
    return [tiles[i] for i in pick]


def option(name: str, off: bool) -> str:
    """How ``evaluate`` chooses a topic (or turns it off), for the recording reader's errors."""
    if name in ("flow", "valid"):
        return "--flow estimate"
    flag = f"--{name}-topic"
    return f"{flag} ''" if off else flag


def _read(path: str, plan: ClipPlan):
    from sim2real_gan.io.recording import read_recording

    topics = {k: t for k, t in (("image", plan.image_topic), ("labels", plan.labels_topic),
                                ("depth", plan.depth_topic)) if t is not None}
    if plan.flow == "estimate":
        topics.update(flow="", valid="")
    rec = read_recording(path, ("labels", "depth", "uv", "flow", "valid"), topics, role="sim",
                         option=option, tf=True)
    if ("flow" in rec.topics) != ("valid" in rec.topics):
        have, miss = ("flow", "flow_valid") if "flow" in rec.topics else ("flow_valid", "flow")
        log.warning("%s: has a %s topic but no %s topic; estimating flow instead", rec.where,
                    have, miss)
        for k in ("flow", "valid"):
            rec.topics.pop(k, None)
            for parts in rec.parts.values():
                parts.pop(k, None)
    return rec


def _choose(rec, plan: ClipPlan) -> tuple[list[list[int]], list[int]]:
    """Clips (lists of indices into ``rec.stamps``) and the profile run."""
    from sim2real_gan.io.recording import split_on_gaps

    seqs = [idx[::plan.stride] for idx in split_on_gaps(rec.stamps)]
    longest = max(seqs, key=len)
    if len(longest) < 2:
        raise ValueError(f"{rec.where}: no two consecutive image frames (stride {plan.stride}); "
                         f"the temporal metrics need at least 2")
    t = min(plan.clip_frames, len(longest))
    clips = [seqs[i][s:s + t] for i, s in pick_windows([len(q) for q in seqs], t, plan.clips)]
    if t < plan.clip_frames or len(clips) < plan.clips:
        log.warning("%s: asked for %d clips x %d frames, the bag gives %d x %d (its longest run "
                    "without a stamp gap has %d frames at stride %d); the metrics use those",
                    rec.where, plan.clips, plan.clip_frames, len(clips), t, len(longest),
                    plan.stride)
    return clips, longest[:max(2, plan.profile_frames)]


def _frames(rec, idx: list[int], framing: Framing, channel: int) -> dict[str, np.ndarray]:
    """The frames ``idx`` of ``rec`` framed, stacked per field: image (T,h,w,3), ..."""
    out: dict[str, list[np.ndarray]] = {}
    for i in idx:
        stamp = rec.stamps[i]
        fr, where = rec.decode(stamp, channel), rec.frame_where(stamp)
        out.setdefault("image", []).append(framing.image(fr["image"], where))
        for k in ("labels", "depth", "uv", "valid"):
            if k in fr:
                out.setdefault(k, []).append(framing.nearest(fr[k], f"{where}: {k}"))
        if "flow" in fr:
            out.setdefault("flow", []).append(framing.flow(fr["flow"], f"{where}: flow"))
    return {k: np.stack(v) for k, v in out.items()}


def _stack(clips: list[dict[str, np.ndarray]], key: str) -> np.ndarray | None:
    return np.stack([c[key] for c in clips]) if key in clips[0] else None


def load_sim_clips(path: str | Path, plan: ClipPlan, out: tuple[int, int]) -> SimClips:
    """Clips of a simulator bag framed to ``out`` (h, w) (module docstring)."""
    from .own_flow import estimate_clip_flow

    if not Path(path).exists():
        raise FileNotFoundError(f"--sim-bag: no such bag {path}")
    rec = _read(str(path), plan)
    gt = "flow" in rec.topics
    if gt and plan.stride > 1:
        raise ValueError(f"{rec.where} has recorded flow ({rec.topics['flow']}), which links "
                         f"consecutive frames: --stride must be 1 (got {plan.stride})")
    native = rec.check_first(plan.label_channel)
    framing = Framing.centre(native, out)
    clips, prof = _choose(rec, plan)
    loaded = [_frames(rec, c, framing, plan.label_channel) for c in clips]
    if gt:
        flow = np.stack([c["flow"][:-1] for c in loaded])
        valid = np.stack([c["valid"][:-1] for c in loaded])
        note = f"recorded: {rec.topics['flow']} + {rec.topics['valid']}"
    else:
        cams, pose_note = rec.cameras() if "depth" in rec.topics else (None, "")
        est = [estimate_clip_flow(c, None if cams is None else
                                  [framing.camera(cams[i]) for i in idx], plan.flow_preset)
               for c, idx in zip(loaded, clips, strict=True)]
        flow, valid = np.stack([e[0] for e in est]), np.stack([e[1] for e in est])
        note = _estimated_note(rec, pose_note, float(np.mean([e[2] for e in est])), plan)
    profile = _frames(rec, prof, framing, plan.label_channel)
    info = {"path": str(path), "topics": dict(rec.topics), "native_size": list(native),
            "frames_in_bag": rec.images, "frames_matched": len(rec.stamps), "fps": rec.fps,
            "clips": len(clips), "clip_frames": len(clips[0]), "stride": plan.stride,
            "crop_box": list(framing.box), "labels": "labels" in rec.topics,
            "flow": FLOW_GT if gt else FLOW_ESTIMATED,
            "flow_note": note,
            "flow_valid_fraction": float(valid.mean())}
    return SimClips(_stack(loaded, "image"), _stack(loaded, "labels"), _stack(loaded, "depth"),
                    _stack(loaded, "uv"), flow, valid, info["flow"], profile, info)


def _estimated_note(rec, pose_note: str, geo: float, plan: ClipPlan) -> str:
    """How the flow was estimated and which pixels count (for the report)."""
    how = f"DIS ({plan.flow_preset}) + forward-backward check on the framed sim frames"
    if "depth" not in rec.topics:
        how += "; no depth topic, so no depth/camera-motion flow"
    elif geo > 0:
        how += (f", fused with depth/camera-motion flow ({100 * geo:.0f}% of pixels; "
                f"{pose_note}); pixels without a surface (depth 0 / +inf) not valid")
    else:
        how += (f"; {pose_note or 'no camera_info + /tf'}, so no depth/camera-motion flow; "
                "pixels without a surface (depth 0 / +inf) not valid")
    if "labels" in rec.topics:
        return how + "; valid only where the flow stays on one label class"
    return how + ("; no labels, so object boundaries count (the number runs higher than with "
                  "ground-truth flow)")
