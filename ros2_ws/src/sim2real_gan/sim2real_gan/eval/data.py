"""Held-out evaluation data from the built-in simulator, generated in-process.

Seed ranges are fixed and far from the small seeds used by training recipes, so no
evaluation scene is ever a training scene:

- ``TEST_SEEDS``: test sequences, rendered in both appearances (the ``sim`` frames are
  translated and scored; the ``real`` rendering of the same scenes is the realism
  reference and the downstream test set).
- ``REAL_TRAIN_SEEDS``: labelled real-style frames that train the real-domain segmenter
  and the KID/FID feature network.
- ``DOWNSTREAM_SEEDS``: sim frames (+ labels) that every method translates to train its
  downstream segmenter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

__all__ = ["TEST_SEEDS", "REAL_TRAIN_SEEDS", "DOWNSTREAM_SEEDS", "Sequences", "seeds",
           "simulate_sequences"]

TEST_SEEDS = 1_000_000
REAL_TRAIN_SEEDS = 2_000_000
DOWNSTREAM_SEEDS = 3_000_000


def seeds(base: int, count: int) -> list[int]:
    """The first ``count`` seeds of a split starting at ``base``."""
    if count < 1:
        raise ValueError(f"a split needs at least 1 sequence, got {count}")
    return [base + i for i in range(count)]


@dataclass
class Sequences:
    """N sequences of T frames, arrays stacked as (N,T,...).

    rgb: appearance -> uint8 (N,T,H,W,3); labels uint8 (N,T,H,W); uv float32 (N,T,H,W,2);
    depth float32 (N,T,H,W); flow float32 (N,T,H,W,2) forward to t+1; flow_valid bool
    (N,T,H,W); seeds: the scene seed of each sequence; content_mask: bool (N,H,W) where each
    sequence's ``real`` rendering shows the scene (inside the scope's field stop), or None.
    The simulator fills every field; a recording (own-data evaluation) has None for what it
    lacks.
    """

    rgb: dict[str, np.ndarray]
    labels: np.ndarray | None = None
    uv: np.ndarray | None = None
    depth: np.ndarray | None = None
    flow: np.ndarray | None = None
    flow_valid: np.ndarray | None = None
    seeds: list[int] | None = None
    content_mask: np.ndarray | None = None
    where: str = "the simulator"     # names the data in errors (a model needs a missing input)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(N, T, H, W)."""
        return tuple(next(iter(self.rgb.values())).shape[:4])  # type: ignore[return-value]

    def aux(self, name: str, model: str) -> np.ndarray:
        """The ``uv`` or ``depth`` input a model reads; ValueError naming both when absent."""
        arr = {"uv": self.uv, "depth": self.depth}.get(name)
        if arr is None:
            raise ValueError(f"model {model} reads the {name!r} input, which {self.where} "
                             f"does not have (evaluate a model trained without it)")
        return arr

    def frames(self, appearance: str) -> np.ndarray:
        """All frames of one appearance flattened to (N*T,H,W,3), sequence-major."""
        if appearance not in self.rgb:
            raise KeyError(f"appearance {appearance!r} not simulated; have {sorted(self.rgb)}")
        a = self.rgb[appearance]
        return a.reshape(-1, *a.shape[2:])

    def flat_labels(self, appearance: str = "sim") -> np.ndarray:
        """(N*T,H,W) labels of ``appearance``'s frames, sequence-major (aligned with
        :meth:`frames`): for ``"real"``, class 0 (background) in the black surround outside
        the content mask, as the image shows it (``sim.Frame.ground_truth``)."""
        if self.labels is None:
            raise ValueError(f"{self.where} has no labels")
        return self._for(appearance, self.labels, 0).reshape(-1, *self.labels.shape[2:])

    def flow_valid_for(self, appearance: str = "sim") -> np.ndarray:
        """(N,T,H,W) flow validity of ``appearance``'s frames (``"real"``: inside the content
        mask only)."""
        return self._for(appearance, self.flow_valid, False)

    def _for(self, appearance: str, planes: np.ndarray, outside: int | bool) -> np.ndarray:
        if appearance not in ("sim", "real"):
            raise ValueError(f"appearance must be 'sim' or 'real', got {appearance!r}")
        if appearance == "sim" or self.content_mask is None:
            return planes
        return np.where(self.content_mask[:, None], planes, planes.dtype.type(outside))


def simulate_sequences(seed_list: list[int], frames: int, width: int, height: int,
                       appearances: tuple[str, ...], progress: bool = False,
                       desc: str = "simulate") -> Sequences:
    """Render ``frames`` consecutive frames of each seed's scene in ``appearances``."""
    from sim2real_gan.sim.config import SimConfig
    from sim2real_gan.sim.simulator import EndoscopeSimulator

    if frames < 2:
        raise ValueError(f"need at least 2 frames per sequence (temporal metrics), got {frames}")
    cfg = SimConfig(width=width, height=height, appearances=tuple(appearances))
    rgb: dict[str, list[np.ndarray]] = {a: [] for a in appearances}
    labels, uv, depth, flow, valid, masks = [], [], [], [], [], []
    for seed in tqdm(seed_list, desc=desc, disable=not progress, leave=False):
        seq = list(EndoscopeSimulator(cfg, seed).frames(frames))
        masks.append(seq[0].content_mask)
        for a in appearances:
            rgb[a].append(np.stack([f.rgb[a] for f in seq]))
        labels.append(np.stack([f.labels for f in seq]))
        uv.append(np.stack([f.uv for f in seq]))
        depth.append(np.stack([f.depth for f in seq]))
        flow.append(np.stack([f.flow for f in seq]))
        valid.append(np.stack([f.flow_valid for f in seq]))
    return Sequences(rgb={a: np.stack(v) for a, v in rgb.items()}, labels=np.stack(labels),
                     uv=np.stack(uv), depth=np.stack(depth), flow=np.stack(flow),
                     flow_valid=np.stack(valid), seeds=list(seed_list),
                     content_mask=np.stack(masks))
