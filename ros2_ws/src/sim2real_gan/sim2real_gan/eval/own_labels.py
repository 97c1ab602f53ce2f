"""Label preservation on a user's bag: a segmenter trained on the bag's own sim labels.

The class ids found in the clips' labels (any ids: Gazebo's label values, mono16 ids) are
mapped to 0..C-1 for the segmenter and reported by their own ids. The clips are split in
two halves in recording order: the segmenter (``segmentation.SmallUNet``) trains on the
raw sim frames and labels of the first half and is scored on the second half, raw (the
"no translation" row) and translated by each method, against the same labels. With a
single clip its frames are split instead (fewer independent frames: a weaker number).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .own_data import SimClips
from .segmentation import SegmenterConfig, SmallUNet, train_segmenter

__all__ = ["LabelSplit", "split_labels", "MAX_CLASSES"]

#: more distinct ids than this is not a class map (instance ids?): label metrics are skipped
MAX_CLASSES = 64


@dataclass
class LabelSplit:
    """The trained segmenter and the held-out part: ``test_ids`` (M,h,w) mapped ids;
    ``class_ids`` the original id of each mapped class."""

    model: SmallUNet
    class_ids: list[int]
    test_ids: np.ndarray
    split: str
    train_frames: int

    def test_frames(self, out: np.ndarray) -> np.ndarray:
        """The held-out frames (M,h,w,3) of a method's output (N,T,h,w,3)."""
        return _part(out, self.split, train=False).reshape(-1, *out.shape[2:])

    def describe(self) -> dict:
        return {"trained_on": f"{self.train_frames} raw sim frames ({self.split})",
                "scored_on": f"{len(self.test_ids)} held-out frames",
                "classes": self.class_ids}


def _part(arr: np.ndarray, split: str, train: bool) -> np.ndarray:
    """First (train) or second half of the clips (``split == "clips"``) or of each clip's
    frames (``"frames"``), keeping (N,T,...) layout."""
    if split == "clips":
        h = len(arr) // 2
        return arr[:h] if train else arr[h:]
    h = arr.shape[1] // 2
    return arr[:, :h] if train else arr[:, h:]


def split_labels(clips: SimClips, cfg: SegmenterConfig, progress: bool = False
                 ) -> tuple[LabelSplit | None, str]:
    """Train the segmenter on the first half -> (split, note); (None, why) when the clips
    have no labels or they are not a map of 2..MAX_CLASSES class ids."""
    labels = clips.labels
    if labels is None:
        return None, "skipped: no labels topic (none found in the bag, or --labels-topic '')"
    ids = np.unique(labels)
    if len(ids) > MAX_CLASSES or len(ids) < 2:
        return None, (f"skipped: the labels topic holds {len(ids)} distinct id(s) in the "
                      f"evaluated frames (expected 2..{MAX_CLASSES} class ids)")
    lut = np.zeros(int(ids.max()) + 1, np.uint8)
    lut[ids] = np.arange(len(ids), dtype=np.uint8)
    mapped = lut[labels]
    split = "clips" if len(labels) >= 2 else "frames"
    x = _part(clips.rgb, split, train=True)
    y = _part(mapped, split, train=True)
    flat_x, flat_y = x.reshape(-1, *x.shape[2:]), y.reshape(-1, *y.shape[2:])
    seg_cfg = replace(cfg, num_classes=len(ids))
    model = train_segmenter(flat_x, flat_y, seg_cfg, progress, "segmenter (sim labels)")
    test = _part(mapped, split, train=False)
    out = LabelSplit(model, [int(i) for i in ids], test.reshape(-1, *test.shape[2:]), split,
                     len(flat_x))
    return out, f"segmenter trained on {out.train_frames} raw sim frames ({split} split)"
