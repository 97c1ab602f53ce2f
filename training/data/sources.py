"""Frame sources -> :class:`SourceData` (sequences of :class:`FrameRef`, fields present).

Kinds: ``synthetic`` (the built-in simulator, in process, optional .npz cache), ``bag``
(rosbag2, MCAP or sqlite3: any recording with a camera image topic, read by
``sim2real_gan.io.recording``), ``folder`` (a folder of images, or a sim folder with
``image/`` and any of ``flow/ valid/ uv/ depth/ labels/ target/`` matched by file stem),
``video`` (MP4, AVI, MKV, ... through OpenCV; decoded once, frames kept in memory).

A source delivers the fields it has. For the sim role, flow the recording lacks is
estimated from the images (``sim2real_gan.flow``, cached by flow_cache.py); for real
footage (video, folder, bag) a content mask
hides the black surround and burned-in text (footage_mask.py). One summary line per path
says what was loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sim2real_gan.io.bag_topics import DEFAULT_NAMESPACE

from .builders import BUILDERS, KINDS
from .footage_mask import MODES as MASK_MODES
from .footage_mask import attach_mask
from .frames import FIELDS
from .source_data import Part, Sequence_, SourceData
from .stereo import DISPARITY_MODES, STEREO_FIELDS
from .summary import log_summary

log = logging.getLogger("training.data")

FLOW_MODES = ("auto", "gt", "estimate", "off")
FLOW_METHODS = ("dis", "fused", "auto")
"""Estimated flow: images only (default: it kept the temporal benefit best, docs/training.md
"Estimated flow") or fused with depth/camera motion; "auto" is read as "fused"."""
FOOTAGE_KINDS = ("video", "folder", "bag")


@dataclass
class SourceConfig:
    """Where one domain's frames come from (see module docstring for ``kind``)."""

    kind: str = "synthetic"
    paths: list[str] = field(default_factory=list)   # bag dirs / folders / video files
    namespace: str = ""          # bag topic namespace; "" = found from the image topic
    topics: dict[str, str] = field(default_factory=dict)  # field -> full topic; "" = unused
    seeds: list[int] = field(default_factory=lambda: [0])  # synthetic: one sequence per seed
    frames: int = 16             # synthetic: frames per sequence
    width: int = 64              # synthetic render size
    height: int = 64
    appearance: str = ""         # synthetic: "sim" | "real"; "" = the role
    paired: bool = False         # synthetic: real stream shows the sim scenes (pix2pix)
    lighting: str = "camera"
    cache: str = ""              # derived data (simulated frames, estimated flow); "" = default
    stride: int = 1              # keep every n-th frame (not with ground-truth flow)
    max_frames: int = 0          # 0 = all
    size: list[int] | None = None  # resize to [H, W] on load
    flow: str = "auto"           # sim: "auto" (recorded, else estimated) | "gt" | "estimate" | "off"
    flow_preset: str = "fast"    # DIS preset of estimated flow: ultrafast | fast | medium
    flow_method: str = "dis"     # "dis": images only | "fused": + depth/camera-motion flow
                                 # when recorded ("auto": the old name of "fused")
    tf_frame: str = ""           # bag: /tf frame of the camera; "" = found (sim2real_gan.flow.tf_poses)
    tf_convention: str = "auto"  # that frame's axes: "optical" | "body" (x forward) | "auto"
    mask: str = "auto"           # real footage: "auto" (area + text) | "content" | "off" | image
    black_level: float = 20.0    # footage: 8-bit level below which a pixel is surround
    label_channel: int = 0       # channel of a 3-channel labels image (Gazebo panoptic: 2)
    stereo: bool = False         # sim: stereo pairs (left eye + right, disparity; stereo.py)
    baseline_mm: float = 5.0     # synthetic stereo: baseline
    disparity: str = "auto"      # stereo: "auto" (recorded, else SGBM) | "gt" | "estimate" | "off"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"data source kind: expected one of {KINDS}, got {self.kind!r}")
        if self.kind != "synthetic" and not self.paths:
            raise ValueError(f"data source kind {self.kind!r} needs 'paths'")
        if self.stride < 1 or self.frames < 2 or self.max_frames < 0:
            raise ValueError(f"data source: need stride >= 1, frames >= 2, max_frames >= 0; got "
                             f"{self.stride}, {self.frames}, {self.max_frames}")
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise ValueError(f"data source size: expected [H, W], got {self.size}")
        if self.flow not in FLOW_MODES:
            raise ValueError(f"data source flow: expected one of {FLOW_MODES}, got {self.flow!r}")
        if self.flow_method not in FLOW_METHODS:
            raise ValueError(f"data source flow_method: expected 'dis' or 'fused', got "
                             f"{self.flow_method!r}")
        if self.flow_method == "auto":  # recipes written before 'fused' had its name
            self.flow_method = "fused"
        if self.tf_convention not in ("auto", "optical", "body"):
            raise ValueError(f"data source tf_convention: expected auto|optical|body, got "
                             f"{self.tf_convention!r}")
        if self.disparity not in DISPARITY_MODES:
            raise ValueError(f"data source disparity: expected one of {DISPARITY_MODES}, got "
                             f"{self.disparity!r}")
        if not 0.5 <= self.baseline_mm <= 50:
            raise ValueError(f"data source baseline_mm: expected 0.5..50, got {self.baseline_mm}")
        if not 0 <= self.label_channel <= 3:
            raise ValueError(f"data source label_channel: expected 0..3, got {self.label_channel}")
        bad = sorted(set(self.topics) - set(FIELDS) - {"camera_info"})
        if bad:
            raise ValueError(f"data source topics: unknown field(s) {bad}; expected some of "
                             f"{[*FIELDS, 'camera_info']}")


def _limit(parts: list[Part], cfg: SourceConfig, stride: int) -> list[Part]:
    """Apply stride (within each sequence) and max_frames (over all parts, in order)."""
    total = 0
    for p in parts:
        seqs = []
        for s in p.seqs:
            s = s[::stride]
            if cfg.max_frames:
                s = s[: max(0, cfg.max_frames - total)]
            total += len(s)
            if s:
                seqs.append(s)
        p.seqs = seqs
    return [p for p in parts if p.seqs]


def _common_fields(parts: list[Part], wanted: tuple[str, ...]) -> tuple[str, ...]:
    have = [f for f in FIELDS if f in wanted and all(f in p.fields for p in parts)]
    for p in parts:
        extra = sorted(set(p.fields) - set(have))
        if extra:
            log.info("%s: %s not used (not in every path of the source)", p.name, extra)
    if "flow" in have and "valid" not in have or "valid" in have and "flow" not in have:
        have = [f for f in have if f not in ("flow", "valid")]
    return tuple(have)


def _flow(cfg: SourceConfig, role: str, seqs: list[Sequence_], fields: tuple[str, ...],
          want: bool) -> tuple[list[Sequence_], tuple[str, ...], str, str]:
    """Ground-truth, estimated or no flow; returns seqs, fields, kind, a summary note."""
    if "flow" in fields:
        return seqs, fields, "gt", "flow: recorded"
    if not want:
        return seqs, fields, "none", ""
    if cfg.flow == "gt":
        raise ValueError(f"data.{role}: flow: gt, but the source has no flow/flow_valid "
                         f"(use flow: auto to estimate it from the images)")
    from sim2real_gan.flow import FlowEstimator

    from .flow_cache import attach_estimated_flow

    cache = Path(cfg.cache) if cfg.cache else default_cache_dir()
    est = FlowEstimator(cfg.flow_preset, method="auto" if cfg.flow_method == "fused" else "dis")
    seqs, computed, geo = attach_estimated_flow(seqs, cache, est, f"estimate flow (data.{role})")
    cams = all(f.camera is not None for s in seqs for f in s)
    how = "DIS + forward-backward check"
    if cfg.flow_method == "fused" and cams and "depth" in fields:
        how += " fused with depth/camera-motion flow" + (
            f" ({100 * geo:.0f}% of pixels)" if computed else "")
    elif cfg.flow_method == "fused":
        how += " (no depth + camera pose in the source for depth/camera-motion flow)"
    note = f"flow: estimated ({how}; {computed} pairs computed, cache {cache / 'flow'})"
    return seqs, (*fields, "flow", "valid"), "estimated", note


def _disparity(cfg: SourceConfig, role: str, seqs: list[Sequence_], fields: tuple[str, ...],
               want: bool) -> tuple[list[Sequence_], tuple[str, ...], str]:
    """Recorded, estimated (SGBM on the pair, cached) or no disparity for a stereo source;
    returns seqs, fields and a summary note."""
    if not want or "right" not in fields:
        return seqs, fields, ""
    if "disparity" in fields and "disparity_valid" in fields and cfg.disparity != "estimate":
        return seqs, fields, "disparity: recorded"
    if cfg.disparity == "gt":
        raise ValueError(f"data.{role}: disparity: gt, but the source has no disparity/"
                         "disparity_valid (use disparity: auto to estimate it with SGBM)")
    from .stereo import DisparityEstimator, attach_estimated_disparity

    cache = Path(cfg.cache) if cfg.cache else default_cache_dir()
    seqs, computed = attach_estimated_disparity(seqs, cache, DisparityEstimator(),
                                                f"estimate disparity (data.{role})")
    kept = tuple(f for f in fields if f not in ("disparity", "disparity_valid"))
    note = (f"disparity: estimated (OpenCV SGBM + left-right check; {computed} pairs computed, "
            f"cache {cache / 'disparity'})")
    return seqs, (*kept, "disparity", "disparity_valid"), note


def default_cache_dir() -> Path:
    """``$SIM2REAL_GAN_CACHE`` or ``$XDG_CACHE_HOME/sim2real_gan`` or ``~/.cache/...``."""
    from sim2real_gan.eval.features import default_cache_dir as eval_cache

    return eval_cache()


def load_source(cfg: SourceConfig, role: str, wanted: tuple[str, ...] = ("image",)
                ) -> SourceData:
    """Load ``role``'s ("sim" | "real") frames with whichever ``wanted`` fields the source has.

    Sim: asking for ``flow``/``valid`` gets the recorded flow or, unless ``cfg.flow`` is
    "off", flow estimated from the images (``cfg.flow: estimate`` always estimates).
    Real footage kinds get a ``mask`` field unless ``cfg.mask`` is "off" (the simulator's
    exact content area for a synthetic real source, detected or read for footage).
    """
    if role not in DEFAULT_NAMESPACE:
        raise ValueError(f"role: expected 'sim' or 'real', got {role!r}")
    wanted = tuple(dict.fromkeys(("image", *wanted)))
    want_flow = role == "sim" and cfg.flow != "off" and bool({"flow", "valid"} & set(wanted))
    read = tuple(f for f in wanted if f not in ("flow", "valid", "mask")
                 or (f in ("flow", "valid") and cfg.flow in ("auto", "gt")))
    want_disp = role == "sim" and cfg.stereo and cfg.disparity != "off" and "disparity" in wanted
    if not (role == "sim" and cfg.stereo):  # stereo fields come only from a stereo source
        read = tuple(f for f in read if f not in STEREO_FIELDS)
    elif cfg.disparity in ("off", "estimate"):
        read = tuple(f for f in read if f not in ("disparity", "disparity_valid"))
    elif want_disp and "right" not in read:
        read += ("right",)  # the pair the disparity belongs to
    may_estimate = cfg.flow == "estimate" or cfg.kind != "synthetic"  # the simulator has GT
    if want_flow and may_estimate and cfg.flow_method == "fused" and "depth" not in read:
        read += ("depth",)  # estimation uses it when recorded (no surface, camera motion)
    if role == "real" and cfg.kind == "synthetic" and cfg.mask != "off":
        read += ("mask",)  # the simulator's own content area (Frame.content_mask)
    if want_flow and may_estimate and "labels" not in read:
        read += ("labels",)  # ... and labels (valid only where a warp stays on one class)
    parts = BUILDERS[cfg.kind](cfg, role, read)
    fields = _common_fields(parts, read)
    if cfg.stride > 1 and "flow" in fields:
        raise ValueError("data source: stride must be 1 with recorded flow (it links "
                         "consecutive frames); use flow: estimate to estimate it on kept frames")
    parts = _limit(parts, cfg, 1 if cfg.kind == "video" else cfg.stride)
    if not parts:
        raise ValueError(f"data.{role}: no frames left after stride/max_frames")
    if role == "real" and cfg.kind in FOOTAGE_KINDS and cfg.mask != "off":
        if cfg.mask not in MASK_MODES and not Path(cfg.mask).is_file():
            raise FileNotFoundError(f"data.{role}.mask: {cfg.mask} is not a file nor one of "
                                    f"{MASK_MODES}")
        for p in parts:
            attach_mask(p, cfg.mask, cfg.black_level)
        fields = (*fields, "mask")
    seqs = [s for p in parts for s in p.seqs]
    seqs, fields, flow, note = _flow(cfg, role, seqs, fields, want_flow)
    seqs, fields, disp_note = _disparity(cfg, role, seqs, fields, want_disp)
    note = "; ".join(n for n in (note, disp_note) if n)
    data = SourceData(role, cfg.kind, seqs, fields, flow, parts)
    log_summary(data, cfg, note)
    return data


def build_source(cfg: SourceConfig, role: str, fields: tuple[str, ...] = ("image",)
                 ) -> list[Sequence_]:
    """Sequences for ``role`` whose frames have all of ``fields`` (flow estimated when the
    source lacks it); a field the source cannot deliver raises ValueError naming it."""
    data = load_source(cfg, role, fields)
    data.require(tuple(f for f in fields if f != "mask"))
    return data.seqs
