"""Timing helpers: medians of repeated runs after warm-up, with a device sync."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_time(
    fn: Callable[[], object], *, repeat: int = 7, warmup: int = 2, device: str = "cpu"
) -> float:
    """Median wall time of `fn()` in seconds."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sync(device: str) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    _sync(device)
