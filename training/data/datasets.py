"""Deterministic, resumable, rank-sharded datasets.

The trainer asks for *sample numbers* n = 0, 1, 2, ... (see :func:`sample_numbers`): sample
n draws sim pair ``perm_e[n mod N]`` of epoch ``e = n // N`` (a seeded permutation per
epoch), a real frame the same way, and its augmentation from ``rng(seed, n)``. So the data
of step k depends only on (seed, k, rank, world size): ranks see disjoint samples and a
resumed run sees exactly the samples it would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from sim2real_gan.artifact import NET_RANGE
from sim2real_gan.artifact.pixels import to_net
from torch.utils.data import Dataset, Sampler

from .appearance import jitter_appearance
from .augment import augment_pair, crop_frame
from .flow_cache import EstimatedFlowFrame
from .frames import FrameRef
from .source_data import Sequence_, SourceData


def _fields_of(seqs: list[Sequence_]) -> tuple[str, ...]:
    return tuple(seqs[0][0].load()) if seqs and seqs[0] else ()


class SimPairs:
    """All consecutive pairs (t, t+1) inside each sequence.

    ``fields``: the fields every frame has (from :class:`SourceData`, else read from the
    first frame); ``flow``: "gt", "estimated" or "none" (see sources.load_source).
    """

    def __init__(self, seqs: list[Sequence_] | SourceData, fields: tuple[str, ...] | None = None,
                 flow: str | None = None) -> None:
        if isinstance(seqs, SourceData):
            seqs, fields, flow = seqs.seqs, seqs.fields, seqs.flow
        self.seqs = seqs
        self.index = [(i, t) for i, s in enumerate(seqs) for t in range(len(s) - 1)]
        if not self.index:
            raise ValueError("sim data: no sequence has two consecutive frames")
        self.fields = tuple(fields) if fields is not None else _fields_of(seqs)
        if flow is None:
            flow = ("estimated" if isinstance(seqs[0][0], EstimatedFlowFrame) else
                    "gt" if "flow" in self.fields else "none")
        self.flow = flow

    def __len__(self) -> int:
        return len(self.index)

    def load(self, j: int) -> tuple[dict, dict]:
        i, t = self.index[j]
        return self.seqs[i][t].load(), self.seqs[i][t + 1].load()


class RealFrames:
    """All real frames; ``fields`` as for :class:`SimPairs` (``mask`` for footage)."""

    def __init__(self, seqs: list[Sequence_] | SourceData,
                 fields: tuple[str, ...] | None = None) -> None:
        if isinstance(seqs, SourceData):
            seqs, fields = seqs.seqs, seqs.fields
        self.frames: list[FrameRef] = [f for s in seqs for f in s]
        if not self.frames:
            raise ValueError("real data: no frames")
        self.fields = tuple(fields) if fields is not None else _fields_of(seqs)

    def __len__(self) -> int:
        return len(self.frames)

    def load(self, j: int) -> dict:
        return self.frames[j].load()


def _perm_index(n: int, size: int, seed: int, salt: int, cache: dict) -> int:
    epoch, j = divmod(n, size)
    key = (salt, epoch)
    if key not in cache:
        if len(cache) > 8:
            cache.clear()
        cache[key] = np.random.default_rng([seed, salt, epoch]).permutation(size)
    return int(cache[key][j])


def _image(a: np.ndarray) -> torch.Tensor:
    """uint8 (H,W,3) -> float (3,H,W) in the network's range (NET_RANGE, [-1,1])."""
    return torch.from_numpy(to_net(a, NET_RANGE))


def _with_rim(fr: dict, cache: dict) -> dict:
    """The frame with a ``rim`` field: each pixel's distance from the whole frame's centre
    (models/vignette.py), cropped and flipped with the frame by the augmentation."""
    h, w = fr["image"].shape[:2]
    if ("rim", h, w) not in cache:
        from sim2real_gan.models.vignette import rim_distance

        cache[("rim", h, w)] = rim_distance(torch.zeros(1, 1, h, w))[0, 0].numpy()
    return {**fr, "rim": cache[("rim", h, w)]}


def _rim(fr: dict) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(fr["rim"], np.float32))[None]


def _aux(fr: dict, names: tuple[str, ...]) -> torch.Tensor:
    parts = []
    for name in names:
        a = fr[name]
        parts.append(torch.from_numpy(np.ascontiguousarray(a, np.float32)).reshape(
            a.shape[0], a.shape[1], -1).permute(2, 0, 1))
    return torch.cat(parts, 0)


class TranslationDataset(Dataset):
    """Sample n -> dict of tensors (crop H x W), only for fields the sources have:

    ``sim_t``, ``sim_t1`` (3,H,W) in [-1,1]; ``flow`` (2,H,W) px and ``valid`` (1,H,W) 0/1
    when the sim source has flow (recorded or estimated: ``sim.flow``); ``aux_t``,
    ``aux_t1`` (A,H,W) when ``aux`` names are given (generator order); ``labels_t`` (H,W)
    int64 when labels were loaded; ``target_t``/``target_t1`` (paired); ``real`` (3,H,W)
    when real frames are given, with ``real_mask`` (1,H,W) 0/1 (1 = scene pixel, 0 = black
    surround or burned-in text) when the real source has a content mask; ``n`` the sample
    number; ``sim_rim`` / ``real_rim`` (1,H,W) each crop pixel's distance from its whole
    frame's centre (the generator's vignetting stage). Stereo sim sources (data/stereo.py)
    add ``right_t`` (3,H,W), ``disparity`` (1,H,W) px and ``disparity_valid`` (1,H,W) 0/1
    (and ``aux_right`` (A,H,W) when the generator reads aux); their pairs are never flipped
    horizontally. Real crops are drawn mostly inside the content area (``min_content``:
    share of content pixels a window should hold) and their look is jittered (``jitter``:
    strength of :func:`~training.data.appearance.jitter_appearance`, 0 = off).
    """

    def __init__(self, sim: SimPairs, real: RealFrames | None, crop: tuple[int, int],
                 seed: int = 0, hflip: bool = True, vflip: bool = False,
                 aux: tuple[str, ...] = (), min_content: float = 0.0,
                 jitter: float = 0.0) -> None:
        self.sim, self.real, self.crop = sim, real, tuple(crop)
        self.seed, self.hflip, self.vflip, self.aux = seed, hflip, vflip, tuple(aux)
        self.min_content, self.jitter = min_content, jitter
        self._cache: dict = {}
        self._rims: dict = {}
        missing = [a for a in self.aux if a not in sim.fields]
        if missing:
            raise ValueError(f"the generator reads aux channel(s) {missing}, which the sim "
                             f"source does not have (it has {list(sim.fields)})")

    def __len__(self) -> int:
        return 2 ** 62  # sample numbers are unbounded; the sampler decides

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(n), 7])
        j = _perm_index(n, len(self.sim), self.seed, 1, self._cache)
        pair = [_with_rim(fr, self._rims) for fr in self.sim.load(j)]
        hflip = self.hflip and "right" not in pair[0]  # a mirrored pair swaps the eyes
        fr_t, fr_t1 = augment_pair(*pair, rng, self.crop, hflip, self.vflip)
        out = {"n": torch.tensor(int(n)), "sim_t": _image(fr_t["image"]),
               "sim_t1": _image(fr_t1["image"]), "sim_rim": _rim(fr_t)}
        if "right" in fr_t:  # stereo: the right eye at t and the disparity left -> right
            out["right_t"] = _image(fr_t["right"])
            if "disparity" in fr_t:
                out["disparity"] = torch.from_numpy(fr_t["disparity"].astype(np.float32))[None]
                out["disparity_valid"] = torch.from_numpy(
                    fr_t["disparity_valid"].astype(np.float32))[None]
            if self.aux and all(f"right_{a}" in fr_t for a in self.aux):
                out["aux_right"] = _aux(fr_t, tuple(f"right_{a}" for a in self.aux))
        if "flow" in fr_t:
            out["flow"] = torch.from_numpy(fr_t["flow"].astype(np.float32)).permute(2, 0, 1)
            out["valid"] = torch.from_numpy(fr_t["valid"].astype(np.float32))[None]
        if self.aux:
            out["aux_t"], out["aux_t1"] = _aux(fr_t, self.aux), _aux(fr_t1, self.aux)
        if "labels" in fr_t:
            out["labels_t"] = torch.from_numpy(fr_t["labels"].astype(np.int64))
        if "target" in fr_t:
            out["target_t"], out["target_t1"] = _image(fr_t["target"]), _image(fr_t1["target"])
        if self.real is not None:
            k = _perm_index(n, len(self.real), self.seed, 2, self._cache)
            fr = crop_frame(_with_rim(self.real.load(k), self._rims), rng, self.crop,
                            self.hflip, self.vflip, self.min_content)
            out["real_rim"] = _rim(fr)
            look = np.random.default_rng([self.seed, int(n), 11])
            out["real"] = _image(jitter_appearance(fr["image"], look, self.jitter, fr.get("mask")))
            if "mask" in fr:
                out["real_mask"] = torch.from_numpy(fr["mask"].astype(np.float32))[None]
        return out


def sample_numbers(step: int, batch: int, rank: int = 0, world: int = 1) -> list[int]:
    """Sample numbers of ``rank``'s local batch at ``step`` (disjoint across ranks)."""
    base = (step * world + rank) * batch
    return list(range(base, base + batch))


class StepBatchSampler(Sampler[list[int]]):
    """Yields the local batch of sample numbers for steps ``start .. stop-1``."""

    def __init__(self, start: int, stop: int, batch: int, rank: int = 0, world: int = 1) -> None:
        self.start, self.stop, self.batch, self.rank, self.world = start, stop, batch, rank, world

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.stop):
            yield sample_numbers(step, self.batch, self.rank, self.world)
