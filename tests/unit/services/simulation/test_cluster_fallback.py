"""A configured Dask scheduler that cannot be reached, or is lost mid-run: the request (or
its unfinished blocks) runs on local threads, with the same bytes as without a cluster
(the service never fails for want of one), and the fallback is counted."""

from __future__ import annotations

import socket
import time
from typing import Any

import numpy as np
from prometheus_client import REGISTRY

from services.common.control import new_meter
from services.simulation.cluster import DaskBlocks, SchedulerLost
from services.simulation.kernels.rng import stream_states
from services.simulation.replicates import Kernel, contiguous_batches
from services.simulation.sweeps import Grid, sweep


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_falls_back_to_local_threads() -> None:
    blocks = DaskBlocks(f"tcp://127.0.0.1:{_closed_port()}", min_replicates=2, connect_timeout=1)
    assert blocks.takes(4) and not blocks.takes(1)
    kw = {"n": 2000, "grid": Grid(0.5, 3.0, 6), "replicates": 4, "seed": 3}
    local = sweep(**kw, max_workers=2)
    fallback = sweep(**kw, max_workers=2, cluster=blocks)
    assert np.array_equal(local.moments, fallback.moments)
    assert local.points == fallback.points


class _LosesItsScheduler(DaskBlocks):
    """A cluster whose first block lands (computed with the request's real kernel) and
    whose scheduler is then lost: what DaskBlocks.run reports when Dask cancels the rest."""

    def client(self) -> object:
        return self

    def run(self, kernel: Kernel, seed: int, first: int, count: int, **kw: Any) -> np.ndarray:
        blocks = contiguous_batches(first, count, 4)
        start, size = blocks[0]
        rows = kernel(stream_states(seed, start, size), new_meter())
        kw["progress"](size)
        raise SchedulerLost({start: rows}, blocks[1:])


def _fallbacks(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "zuhur_simulation_cluster_fallbacks_total", {"reason": reason}
    )
    return value or 0.0


def test_a_scheduler_lost_mid_run_finishes_here_with_the_same_bytes() -> None:
    kw: dict[str, Any] = {"n": 3000, "grid": Grid(0.5, 3.0, 7), "replicates": 10, "seed": 5}
    local = sweep(**kw, max_workers=2)
    before = _fallbacks("lost")
    seen: list[tuple[int, int]] = []
    lost = sweep(
        **kw,
        max_workers=2,
        cluster=_LosesItsScheduler("tcp://nowhere:1", min_replicates=2),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert lost.moments.tobytes() == local.moments.tobytes()
    assert _fallbacks("lost") == before + 1
    assert seen[0] == (3, 10) and seen[-1] == (10, 10)  # the landed block, then the rest
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_an_unreachable_scheduler_is_not_retried_at_once() -> None:
    blocks = DaskBlocks(f"tcp://127.0.0.1:{_closed_port()}", min_replicates=2, connect_timeout=1)
    before = _fallbacks("unreachable")
    for _ in range(2):
        sweep(n=500, grid=Grid(1.0, 2.0, 2), replicates=2, seed=1, cluster=blocks)
    assert _fallbacks("unreachable") == before + 2
    start = time.monotonic()
    try:
        blocks.client()
    except OSError as exc:
        assert "failed recently" in str(exc)
    else:  # pragma: no cover - the port was closed
        raise AssertionError("connected to a closed port")
    assert time.monotonic() - start < 0.5  # no connection attempt within RETRY_SECONDS
