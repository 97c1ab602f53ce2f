"""Shared pytest fixtures. Tests make their own data; nothing is downloaded."""

from __future__ import annotations

import importlib.util

import pytest


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ROS / TensorRT / CUDA tests cleanly where those are not installed."""
    import torch

    skips = {
        "ros": (not _has("rclpy"), "ROS 2 (rclpy) is not installed"),
        "tensorrt": (not _has("tensorrt") or not torch.cuda.is_available(),
                     "TensorRT and an NVIDIA GPU are required"),
        "cuda": (not torch.cuda.is_available(), "no CUDA device"),
    }
    for item in items:
        for marker, (skip, why) in skips.items():
            if skip and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run each test's torch code on one intra-op thread.

    The networks in the tests are tiny; on a 2-core machine two intra-op threads mostly
    spin-wait on each other (and on any other process), which made steps ~15x slower.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
