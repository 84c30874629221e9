"""benchmarks/distributed.py: data-parallel evaluation over two gloo processes."""

from __future__ import annotations

import multiprocessing

import pytest
import torch

from benchmarks import distributed

available, reason = distributed.available()
pytestmark = pytest.mark.skipif(not available, reason=reason or "torch.distributed unavailable")


def test_shards_cover_the_batch_at_any_world_size():
    """Shards are contiguous, cover every point, and give the same points at 1 and 2 ranks."""
    n = 10_000
    whole = distributed._points(0, n, 3, 0, torch.float64)
    shards = [distributed._shard(n, r, 2) for r in range(2)]
    assert shards[0][0] == 0 and shards[0][1] == shards[1][0] and shards[1][1] == n
    parts = [distributed._points(a, b, 3, 0, torch.float64) for a, b in shards]
    assert torch.equal(torch.cat(parts), whole)


def test_two_processes_check_and_gather_like_one():
    """Each rank's shard agrees with autograd and sg.check; gathered results match 1 process."""
    results = distributed.scaling((1, 2), n=20_000, repeat=1, timeout_s=20)
    one, two = results
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert two["backend"] in {"gloo", "nccl"}
    assert sum(two["shard_sizes"]) == 20_000 and min(two["shard_sizes"]) > 0
    for r in results:
        assert r["agrees_with_autograd"] and r["check_ok"] and r["matches_first"]
        assert r["gathered_shape"] == [20_000, 6]
        assert r["step_s"] > 0 and r["speedup"] > 0
    assert multiprocessing.active_children() == []  # every rank has exited and been joined
