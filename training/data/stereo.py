"""Stereo sim sources: the left eye is the frame, the right eye and the disparity are fields.

A stereo source (``SourceConfig.stereo``) delivers, beside the left eye's usual fields:

- ``right`` uint8 (H,W,3): the right eye's image at the same instant;
- ``disparity`` float32 (H,W): left -> right disparity in pixels (``x_right = x_left - d``),
  and ``disparity_valid`` bool (H,W): the left pixel is visible in the right image;
- ``right_uv`` / ``right_depth``: the right eye's aux planes, for generators that read them.

Sources: the built-in simulator's stereo scope (ground-truth disparity), and stereo bags in
the ``stereo_image_proc`` layout (``<ns>/left/*``, ``<ns>/right/*``, a ``simulate --stereo``
bag or a recording): the left eye's topics are found as for a mono bag, the right eye's
under the sibling ``right`` namespace, the disparity as ``<ns>/left/disparity`` and
``disparity_valid``. A recording without disparity gets it estimated (``disparity: auto``):
OpenCV SGBM on the (sim) pair with a left-right consistency check as validity
(``sim2real_gan.eval.stereo_match.sgbm_disparity``), computed once per sequence and cached
like estimated flow, under ``<cache>/disparity/<key>/``.

Crops keep both eyes aligned (one window); a horizontal flip would swap the eyes' roles, so
stereo samples are never flipped horizontally (vertical flips keep rows aligned).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .cache_dir import build_cache_dir
from .frames import FrameRef
from .source_data import Sequence_

#: frame fields of a stereo source (frames.FIELDS holds them too)
STEREO_FIELDS = ("right", "disparity", "disparity_valid", "right_uv", "right_depth")
#: right-eye aux field -> the left-eye field it mirrors
RIGHT_AUX = {"right_uv": "uv", "right_depth": "depth"}
DISPARITY_MODES = ("auto", "gt", "estimate", "off")
VERSION = 1  # bump when the estimator's output changes


def right_field(aux: str) -> str:
    """The right eye's field of aux channel ``aux`` (``uv`` -> ``right_uv``)."""
    return f"right_{aux}"


# ------------------------------------------------------------------------ simulator
def simulate_stereo(sim, look: str, frames: int, fields: tuple[str, ...]
                    ) -> dict[str, np.ndarray]:
    """Field arrays (T,...) of the left eye plus the stereo fields among ``fields``, and the
    cameras (``_K`` (3,3), ``_pose`` (T,4,4)) of the left eye. ``sim`` is an
    ``EndoscopeSimulator`` with a stereo config."""
    pairs = list(sim.stereo_frames(frames))
    left = [p.left for p in pairs]
    get = {"image": lambda p: p.left.image(look), "target": lambda p: p.left.image("real"),
           "flow": lambda p: p.left.flow, "valid": lambda p: p.left.flow_valid,
           "uv": lambda p: p.left.uv, "depth": lambda p: p.left.depth,
           "labels": lambda p: p.left.labels, "right": lambda p: p.right.image(look),
           "disparity": lambda p: p.disparity_for(look)[0],
           "disparity_valid": lambda p: p.disparity_for(look)[1],
           "right_uv": lambda p: p.right.uv, "right_depth": lambda p: p.right.depth}
    out = {k: np.stack([get[k](p) for p in pairs]) for k in fields if k in get}
    out["_K"], out["_pose"] = left[0].K, np.stack([f.cam_pose for f in left])
    return out


# ------------------------------------------------------------------------ bag topics
IMAGE = "sensor_msgs/msg/Image"


def left_image_topic(types: dict[str, str]) -> str | None:
    """The left eye's image topic of a stereo bag (``.../left/image_raw`` or
    ``.../left/image``) when exactly one exists, else None."""
    hits = sorted(t for t, ty in types.items() if ty == IMAGE and t.rsplit("/", 2)[-2:-1]
                  == ["left"] and t.rsplit("/", 1)[-1] in ("image_raw", "image", "image_rect",
                                                           "image_rect_color"))
    return hits[0] if len(hits) == 1 else None


def stereo_topics(types: dict[str, str], image: str, wanted: tuple[str, ...],
                  overrides: dict[str, str]) -> dict[str, str]:
    """field -> topic for the stereo fields among ``wanted``: the right eye's image (same
    name as the left one) and aux planes under the sibling ``right`` namespace, the
    disparity beside the left image. ``overrides`` (the source's ``topics``) win; '' = off."""
    left_ns, name = image.rsplit("/", 1)
    right_ns = left_ns.rsplit("/", 1)[0] + "/right" if left_ns.endswith("/left") else ""
    guess = {"right": f"{right_ns}/{name}" if right_ns else "",
             "disparity": f"{left_ns}/disparity", "disparity_valid": f"{left_ns}/disparity_valid",
             "right_uv": f"{right_ns}/uv" if right_ns else "",
             "right_depth": f"{right_ns}/depth" if right_ns else ""}
    out = {}
    for f in wanted:
        if f not in guess:
            continue
        t = overrides.get(f, guess[f])
        if t and types.get(t) == IMAGE:
            out[f] = t
    return out


def bag_topic_choice(types: dict[str, str], cfg, role: str, where: str) -> dict[str, str]:
    """The ``topics`` choice (field -> topic; '' = off) to read a bag with
    (``sim2real_gan.io.bag_topics.resolve_topics`` / ``io.recording.read_recording``): the
    source's own ``topics``, and for a stereo sim source (``SourceConfig`` ``cfg``) the left
    eye's image as the frame's image and the stereo fields found beside it."""
    overrides = dict(cfg.topics)
    if not (cfg.stereo and role == "sim"):
        return overrides
    if not cfg.namespace and "image" not in overrides:
        overrides["image"] = left_image_topic(types) or ""
        if not overrides["image"]:
            raise ValueError(f"{where}: stereo: no single .../left/image_raw topic (the "
                             "stereo_image_proc layout); set data.sim.topics.image or namespace")
    image = overrides.get("image") or _namespace_image(types, cfg.namespace)
    found = stereo_topics(types, image, STEREO_FIELDS, overrides) if image else {}
    return {**overrides, **{f: found.get(f, "") for f in STEREO_FIELDS}}


def _namespace_image(types: dict[str, str], namespace: str) -> str:
    from sim2real_gan.io.bag_topics import SUFFIXES

    ns = namespace.rstrip("/")
    return next((f"{ns}/{s}" for s in SUFFIXES["image"] if types.get(f"{ns}/{s}") == IMAGE), "")


# ------------------------------------------------------------------------ estimated disparity
@dataclass(frozen=True)
class DisparityEstimator:
    """OpenCV SGBM settings for pairs without recorded disparity (defaults as the stereo
    evaluation's, ``eval.stereo_match.SgbmConfig``)."""

    num_disparities: int = 32
    block_size: int = 5
    lr_check_px: float = 1.0

    def key(self) -> str:
        return repr((VERSION, sorted(asdict(self).items())))

    def __call__(self, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (H,W,3) RGB pair -> disparity float32 (H,W), valid bool (H,W)."""
        from sim2real_gan.eval.stereo_match import SgbmConfig, sgbm_disparity

        return sgbm_disparity(left, right, SgbmConfig(
            num_disparities=self.num_disparities, block_size=self.block_size,
            lr_check_px=self.lr_check_px))


@dataclass
class EstimatedDisparityFrame(FrameRef):
    """A frame plus its cached estimated disparity (``index`` into the sequence's arrays)."""

    base: FrameRef
    folder: str
    index: int

    def load(self) -> dict[str, np.ndarray]:
        fr = self.base.load()
        folder = Path(self.folder)
        fr["disparity"] = np.load(folder / "disparity.npy", mmap_mode="r")[self.index].astype(
            np.float32)
        fr["disparity_valid"] = np.array(np.load(folder / "valid.npy", mmap_mode="r")[self.index])
        return fr

    def _content_id(self) -> bytes:
        return self.base._content_id()


def _compute(seq: Sequence_, folder: Path, est: DisparityEstimator, bar: tqdm) -> None:
    """Estimate every frame of ``seq`` into a new ``folder`` (atomic: temp dir + rename)."""
    with build_cache_dir(folder) as tmp:
        first = seq[0].load()
        h, w = first["image"].shape[:2]
        disp = np.lib.format.open_memmap(tmp / "disparity.npy", "w+", np.float16, (len(seq), h, w))
        valid = np.lib.format.open_memmap(tmp / "valid.npy", "w+", bool, (len(seq), h, w))
        for t, f in enumerate(seq):
            fr = first if t == 0 else f.load()
            disp[t], valid[t] = est(fr["image"], fr["right"])
            bar.update(1)
        disp.flush()
        valid.flush()
        del disp, valid


def attach_estimated_disparity(seqs: list[Sequence_], cache: Path, est: DisparityEstimator,
                               desc: str = "estimate disparity") -> tuple[list[Sequence_], int]:
    """Sequences whose frames carry estimated ``disparity``/``disparity_valid`` (computed or
    from the cache); returns them and how many frames had to be computed (0 = all cached)."""
    keys = []
    for s in seqs:
        h = hashlib.sha1(est.key().encode())
        for f in s:
            h.update(f.fingerprint().encode())
        keys.append(h.hexdigest()[:20])
    todo = [(s, cache / "disparity" / k) for s, k in zip(seqs, keys, strict=True)
            if not (cache / "disparity" / k / "valid.npy").is_file()]
    count = sum(len(s) for s, _ in todo)
    with tqdm(total=count, desc=desc, unit="pair", disable=None if count else True) as bar:
        for s, folder in todo:
            _compute(s, folder, est, bar)
    out = [[EstimatedDisparityFrame(base=f, folder=str(cache / "disparity" / k), index=i,
                                    camera=f.camera, where=f.where) for i, f in enumerate(s)]
           for s, k in zip(seqs, keys, strict=True)]
    return out, count
