"""Training data: frame sources (simulator, rosbag2, folders, videos), consistent pair
augmentation, and the deterministic, rank-sharded datasets the trainer iterates."""

from .augment import augment_pair, crop_frame
from .datasets import RealFrames, SimPairs, StepBatchSampler, TranslationDataset, sample_numbers
from .source_data import SourceData
from .sources import (
    SourceConfig,
    build_source,
    load_source,
)

__all__ = [
    "RealFrames", "SimPairs", "SourceConfig", "SourceData", "StepBatchSampler",
    "TranslationDataset", "augment_pair", "build_source", "crop_frame", "load_source",
    "sample_numbers",
]
