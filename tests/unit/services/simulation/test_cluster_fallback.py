"""A configured Dask scheduler that cannot be reached: the request runs on local threads,
with the same bytes as without a cluster (the service never fails for want of one)."""

from __future__ import annotations

import socket

import numpy as np

from services.simulation.cluster import DaskBlocks
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
