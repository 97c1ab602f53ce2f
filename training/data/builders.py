"""One builder per source kind: (SourceConfig, role, fields to read) -> list of Parts.

Each part carries the fields it actually has among those asked for (``image`` always).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sim2real_gan.flow.camera import Camera
from tqdm import tqdm

from .bag_source import read_bag_part
from .frames import ArrayFrame, FileFrame
from .source_data import Part, Sequence_

if TYPE_CHECKING:
    from .sources import SourceConfig

KINDS = ("synthetic", "bag", "folder", "video")


def _size(cfg: SourceConfig) -> tuple[int, int] | None:
    return (int(cfg.size[0]), int(cfg.size[1])) if cfg.size else None


def _simulator_fingerprint() -> str:
    """Hash of the simulator's source files: a changed renderer invalidates cached frames."""
    import sim2real_gan.sim as simpkg

    h = hashlib.sha1()
    for f in sorted(Path(simpkg.__file__).parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _simulate(cfg: SourceConfig, simcfg, seed: int, look: str,
              fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Field arrays (T,...) plus the cameras: ``_K`` (3,3) and ``_pose`` (T,4,4)."""
    from sim2real_gan.sim.config import scene_seed_for
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    sim = EndoscopeSimulator(simcfg, seed=scene_seed_for(seed, look, cfg.paired))
    if simcfg.stereo is not None:  # the left eye is the frame (stereo.py)
        from .stereo import simulate_stereo

        return simulate_stereo(sim, look, cfg.frames, fields)
    frames = list(sim.frames(cfg.frames))
    get = {"image": lambda f: f.image(look), "target": lambda f: f.image("real"),
           "flow": lambda f: f.flow, "valid": lambda f: f.flow_valid,
           "uv": lambda f: f.uv, "depth": lambda f: f.depth, "labels": lambda f: f.labels,
           "mask": lambda f: f.content_mask}
    out = {k: np.stack([get[k](f) for f in frames]) for k in fields if k in get}
    out["_K"], out["_pose"] = simcfg.K, np.stack([f.cam_pose for f in frames])
    return out


def _synthetic(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Part]:
    from sim2real_gan.sim.config import SimConfig, StereoConfig

    look = cfg.appearance or role
    apps = (look, "real") if "target" in fields else (look,)
    stereo = (StereoConfig(baseline_m=cfg.baseline_mm / 1000.0)
              if cfg.stereo and role == "sim" else None)
    simcfg = SimConfig(width=cfg.width, height=cfg.height, appearances=tuple(dict.fromkeys(apps)),
                       lighting=cfg.lighting, stereo=stereo)
    parts = []
    for seed in tqdm(cfg.seeds, desc=f"simulate {role}", leave=False, disable=len(cfg.seeds) < 4):
        key = json.dumps([dataclasses.asdict(simcfg), seed, look, cfg.paired, cfg.frames,
                          sorted(fields), _simulator_fingerprint(), "cameras"], sort_keys=True,
                         default=str)
        cache = (Path(cfg.cache) / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"
                 if cfg.cache else None)
        if cache is not None and cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        else:
            arrays = _simulate(cfg, simcfg, seed, look, fields)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(suffix=".npz", dir=cache.parent)
                os.close(fd)
                np.savez(tmp, **arrays)
                os.replace(tmp, cache)
        k_mat, poses = arrays.pop("_K"), arrays.pop("_pose")
        n = len(arrays["image"])
        hw = (cfg.height, cfg.width)
        seq = [ArrayFrame({k: v[i] for k, v in arrays.items()}, size=_size(cfg),
                          camera=Camera(k_mat, poses[i], hw),
                          where=f"simulator seed {seed} frame {i}") for i in range(n)]
        parts.append(Part(f"seed {seed}", [seq], tuple(arrays), hw, simcfg.fps, n))
    return parts


def _bag(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Part]:
    return [read_bag_part(p, role, fields, cfg, _size(cfg)) for p in cfg.paths]


def _folder_part(path: Path, cfg: SourceConfig, fields: tuple[str, ...]) -> Part:
    from sim2real_gan.io.media import IMAGE_SUFFIXES, read_image

    if not path.is_dir():
        raise FileNotFoundError(f"data folder {path} does not exist")
    root = path / "image" if (path / "image").is_dir() else path
    images = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise ValueError(f"data folder {root} has no images ({', '.join(IMAGE_SUFFIXES)})")
    have = tuple(k for k in fields if k != "image" and (path / k).is_dir())
    frames: Sequence_ = []
    for img in images:
        paths = {"image": img}
        for k in have:
            hits = sorted((path / k).glob(img.stem + ".*"))
            if not hits:
                raise ValueError(f"data folder {path}: no {k}/ file for {img.name} "
                                 f"(expected {path / k / (img.stem + '.npy|.png')})")
            paths[k] = hits[0]
        frames.append(FileFrame(paths, size=_size(cfg), label_channel=cfg.label_channel,
                                where=f"{img}"))
    h, w = read_image(images[0]).shape[:2]
    return Part(path.name, [frames], ("image", *have), (h, w), 0.0, len(frames))


def _folder(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Part]:
    return [_folder_part(Path(p), cfg, fields) for p in cfg.paths]


def _video_part(path: str, cfg: SourceConfig) -> Part:
    from sim2real_gan.io.media import read_video, video_info

    info = video_info(path)
    frames: Sequence_ = []
    for i, rgb in enumerate(read_video(path, cfg.stride, cfg.max_frames)):
        fr = ArrayFrame({"image": rgb}, size=_size(cfg)).load()  # resize once, keep that copy
        frames.append(ArrayFrame(fr, where=f"video {path} frame {i * cfg.stride}"))
    if not frames:
        raise ValueError(f"video {path} has no frames (expected at least one decodable frame)")
    return Part(Path(path).name, [frames], ("image",), (info.height, info.width), info.fps,
                info.frames)


def _video(cfg: SourceConfig, role: str, fields: tuple[str, ...]) -> list[Part]:
    return [_video_part(p, cfg) for p in cfg.paths]


BUILDERS = {"synthetic": _synthetic, "bag": _bag, "folder": _folder, "video": _video}
