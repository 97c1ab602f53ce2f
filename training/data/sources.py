"""Frame sources -> sequences of :class:`FrameRef` (consecutive frames, flow to the next).

Kinds: ``synthetic`` (the built-in simulator, in process, optional .npz cache), ``bag``
(rosbag2, MCAP or sqlite3; messages grouped by ``header.stamp``), ``folder`` (a folder of
images, or a sim folder with ``image/ flow/ valid/ uv/ depth/ labels/ target/``
subfolders matched by file stem), ``video`` (decoded once, frames kept in memory).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .frames import ArrayFrame, BagFrame, FileFrame, FrameRef

Sequence_ = list[FrameRef]
KINDS = ("synthetic", "bag", "folder", "video")

#: Topic suffixes written by ``sim2real-gan simulate`` under a namespace (docs/ARCHITECTURE.md).
SIM_TOPICS: dict[str, str] = {
    "image": "image_raw", "flow": "flow", "valid": "flow_valid", "uv": "uv",
    "depth": "depth", "labels": "segmentation",
}
DEFAULT_NAMESPACE = {"sim": "/sim/camera", "real": "/real/camera"}


@dataclass
class SourceConfig:
    """Where one domain's frames come from (see module docstring for ``kind``)."""

    kind: str = "synthetic"
    paths: list[str] = field(default_factory=list)   # bag dirs / folders / video files
    namespace: str = ""          # bag topic namespace; "" = /sim/camera or /real/camera by role
    topics: dict[str, str] = field(default_factory=dict)  # field -> full topic (overrides)
    seeds: list[int] = field(default_factory=lambda: [0])  # synthetic: one sequence per seed
    frames: int = 16             # synthetic: frames per sequence
    width: int = 64              # synthetic render size
    height: int = 64
    appearance: str = ""         # synthetic: "sim" | "real"; "" = the role
    paired: bool = False         # synthetic: real stream shows the sim scenes (pix2pix)
    lighting: str = "camera"
    cache: str = ""              # synthetic: folder for generated sequences (.npz)
    stride: int = 1              # real sources only: keep every n-th frame
    max_frames: int = 0          # 0 = all
    size: list[int] | None = None  # resize to [H, W] on load

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


def _limit(seqs: list[Sequence_], cfg: SourceConfig) -> list[Sequence_]:
    out, total = [], 0
    for s in seqs:
        if cfg.max_frames and total >= cfg.max_frames:
            break
        if cfg.max_frames:
            s = s[: cfg.max_frames - total]
        total += len(s)
        out.append(s)
    return out


def _simulator_fingerprint() -> str:
    """Hash of the simulator's source files: a changed renderer invalidates cached frames."""
    import sim2real_gan.sim as simpkg

    h = hashlib.sha1()
    for f in sorted(Path(simpkg.__file__).parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _synthetic(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Sequence_]:
    from sim2real_gan.sim.config import SimConfig, scene_seed_for
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    look = cfg.appearance or role
    apps = (look, "real") if "target" in fields else (look,)
    simcfg = SimConfig(width=cfg.width, height=cfg.height, appearances=tuple(dict.fromkeys(apps)),
                       lighting=cfg.lighting)
    seqs = []
    for seed in tqdm(cfg.seeds, desc=f"simulate {role}", leave=False, disable=len(cfg.seeds) < 4):
        key = json.dumps([dataclasses.asdict(simcfg), seed, look, cfg.paired, cfg.frames,
                          sorted(fields), _simulator_fingerprint()], sort_keys=True, default=str)
        cache = (Path(cfg.cache) / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"
                 if cfg.cache else None)
        if cache is not None and cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        else:
            sim = EndoscopeSimulator(simcfg, seed=scene_seed_for(seed, look, cfg.paired))
            frames = list(sim.frames(cfg.frames))
            get = {"image": lambda f: f.image(look), "target": lambda f: f.image("real"),
                   "flow": lambda f: f.flow, "valid": lambda f: f.flow_valid,
                   "uv": lambda f: f.uv, "depth": lambda f: f.depth, "labels": lambda f: f.labels}
            arrays = {k: np.stack([get[k](f) for f in frames]) for k in fields}
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(suffix=".npz", dir=cache.parent)
                os.close(fd)
                np.savez(tmp, **arrays)
                os.replace(tmp, cache)
        n = len(arrays["image"])
        seqs.append([ArrayFrame({k: v[i] for k, v in arrays.items()}, size=_size(cfg))
                     for i in range(n)])
    return seqs


def _size(cfg: SourceConfig) -> tuple[int, int] | None:
    return (int(cfg.size[0]), int(cfg.size[1])) if cfg.size else None


def _bag(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Sequence_]:
    from sim2real_gan.io.bag import BagReader, cdr_header_stamp_ns

    ns = (cfg.namespace or DEFAULT_NAMESPACE[role]).rstrip("/")
    topics = {k: cfg.topics.get(k, f"{ns}/{SIM_TOPICS.get(k, k)}") for k in fields}
    if "target" in fields and "target" not in cfg.topics:
        topics["target"] = f"{DEFAULT_NAMESPACE['real']}/image_raw"
    by_topic = {t: k for k, t in topics.items()}
    seqs: list[Sequence_] = []
    for path in cfg.paths:
        stamps: dict[int, dict[str, tuple[str, bytes]]] = {}
        with BagReader(path) as reader:
            missing = sorted(set(topics.values()) - set(reader.topics))
            if missing:
                raise ValueError(f"bag {path}: missing topic(s) {missing} for fields "
                                 f"{list(fields)}; it has {sorted(reader.topics)}")
            for m in reader.messages(list(by_topic)):
                stamps.setdefault(cdr_header_stamp_ns(m.raw), {})[by_topic[m.topic]] = (
                    m.msgtype, m.raw)
        complete = sorted(s for s, d in stamps.items() if len(d) == len(fields))
        if not complete:
            raise ValueError(f"bag {path}: no stamp has all of {list(topics.values())}")
        frames = [BagFrame(stamps[s], size=_size(cfg)) for s in complete]
        seqs += _split_on_gaps(frames, complete)
    return seqs


def _split_on_gaps(frames: list[FrameRef], stamps: list[int]) -> list[Sequence_]:
    """Split where the stamp step exceeds 1.5x the median step (a new sequence began)."""
    if len(stamps) < 3:
        return [frames]
    steps = np.diff(np.asarray(stamps, np.int64))
    cut = np.nonzero(steps > 1.5 * np.median(steps))[0]
    bounds = [0, *(int(c) + 1 for c in cut), len(frames)]
    return [frames[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _folder(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Sequence_]:
    from sim2real_gan.io.media import IMAGE_SUFFIXES

    seqs = []
    for path in map(Path, cfg.paths):
        if not path.is_dir():
            raise FileNotFoundError(f"data folder {path} does not exist")
        root = path / "image" if (path / "image").is_dir() else path
        images = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise ValueError(f"data folder {root} has no images ({', '.join(IMAGE_SUFFIXES)})")
        frames: Sequence_ = []
        for img in images:
            paths = {"image": img}
            for k in fields:
                if k == "image":
                    continue
                hits = sorted((path / k).glob(img.stem + ".*"))
                if not hits:
                    raise ValueError(f"data folder {path}: no {k}/ file for {img.name} "
                                     f"(expected {path / k / (img.stem + '.npy|.png')})")
                paths[k] = hits[0]
            frames.append(FileFrame(paths, size=_size(cfg)))
        seqs.append(frames)
    return seqs


def _video(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Sequence_]:
    from sim2real_gan.io.media import read_video

    seqs = []
    for path in cfg.paths:
        frames: Sequence_ = []
        for i, rgb in enumerate(read_video(path)):
            if i % cfg.stride == 0:
                fr = ArrayFrame({"image": rgb}, size=_size(cfg))
                frames.append(ArrayFrame(fr.load()))  # resize once, keep the small copy
            if cfg.max_frames and len(frames) >= cfg.max_frames:
                break
        if not frames:
            raise ValueError(f"video {path} has no frames")
        seqs.append(frames)
    return seqs


BUILDERS = {"synthetic": _synthetic, "bag": _bag, "folder": _folder, "video": _video}


def build_source(cfg: SourceConfig, role: str, fields: tuple[str, ...] = ("image",)
                 ) -> list[Sequence_]:
    """Sequences of frame references for ``role`` ("sim" | "real") with ``fields`` present."""
    if role not in DEFAULT_NAMESPACE:
        raise ValueError(f"role: expected 'sim' or 'real', got {role!r}")
    if "image" not in fields:
        fields = ("image", *fields)
    if cfg.stride != 1 and "flow" in fields:
        raise ValueError("data source: stride must be 1 for sim sequences (flow links "
                         "consecutive frames)")
    seqs = BUILDERS[cfg.kind](cfg, role, tuple(fields))
    if cfg.stride > 1 and cfg.kind != "video":
        seqs = [s[:: cfg.stride] for s in seqs]
    return [s for s in _limit(seqs, cfg) if s]
