"""One G(n, p) replicate on two threads: its pair space is cut into direct.GNP_PARTS fixed
equal parts, each drawn from its own sub-stream. One thread draws part 0 into the forest,
then links the other parts' edge lists in order while the other thread draws them
(pipelined: at most two parts ahead of the linking).

The parts and their streams never depend on the threads, so the graph (and every
statistic) is the same as the serial schedule (direct.gnp_batch, all parts into one
forest). Rule: parts go on separate threads only when a request has fewer replicates than
threads; otherwise whole replicates per thread (replicates.run_replicates) keep every
thread busy without the edge lists. Linking costs a little more than drawing per edge,
so one realization takes about 2/3 of its serial time.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from services.common.control import STEP, STEPS, RunControl
from services.simulation.kernels import direct
from services.simulation.kernels.rng import substream_states

AHEAD = 2
"""Parts drawn ahead of the linking thread: enough to keep both threads busy."""


def pool_width(executor: Executor | None, max_workers: int | None) -> int:
    """Threads a request may use: ``max_workers`` if given (the service passes its kernel
    pool's size), else the CPU count for an executor, else 1."""
    if max_workers:
        return max_workers
    return (os.cpu_count() or 1) if executor is not None else 1


def split_across_threads(
    replicates: int, executor: Executor | None, max_workers: int | None
) -> bool:
    """Whether to run the parts of each replicate on separate threads (see module doc)."""
    return replicates < pool_width(executor, max_workers) and (
        executor is not None or (max_workers or 1) > 1
    )


def gnp_threaded(
    n: int,
    p: float,
    seed: int,
    count: int,
    *,
    executor: Executor | None = None,
    max_workers: int | None = None,
    control: RunControl | None = None,
) -> np.ndarray:
    """Rows (int64[count, 4], as direct.gnp_batch) of replicates 0..count-1, each replicate's
    parts drawn concurrently on the executor (or a private pool of ``max_workers``).

    Memory: one 4n-byte forest per replicate and at most ``AHEAD`` + 1 parts' edge lists
    (8 bytes an edge) per replicate. A ``control`` sees each replicate's linked parts as its
    progress and is checked between parts (Cancelled).
    """
    parts = direct.GNP_PARTS
    ctl = control if control is not None else RunControl()
    meters = [ctl.meter(1) for _ in range(count)]
    for _, meter in meters:
        meter[STEPS] = parts
    states = substream_states(seed, 0, count, parts)
    forests = np.empty((count, n), dtype=np.int32)
    own = executor is None
    pool = executor if executor is not None else ThreadPoolExecutor(max_workers=max_workers)
    drawn: list[Future[np.ndarray] | None] = []  # a part's slot is emptied once linked
    linked: list[Future[int]] = []
    rows: list[Future[np.ndarray]] = []
    try:
        linked = [
            pool.submit(direct.gnp_part_forest, forests[r], p, parts, states[r, 0])
            for r in range(count)
        ]
        drawn = [
            pool.submit(direct.gnp_part_edges, n, p, k, parts, states[r, k])
            for k in range(1, 1 + AHEAD)
            for r in range(count)
        ]
        edges = [0] * count
        for k in range(1, parts):
            for r in range(count):
                ctl.check()
                meters[r][1][STEP] = k
                slot = (k - 1) * count + r
                part = drawn[slot]
                assert part is not None
                part_edges = part.result()
                drawn[slot] = None  # its edge list is freed once linked, not at the end
                if k + AHEAD < parts:  # keep the drawing thread AHEAD parts in front
                    drawn.append(
                        pool.submit(
                            direct.gnp_part_edges, n, p, k + AHEAD, parts, states[r, k + AHEAD]
                        )
                    )
                edges[r] += linked[r].result()
                linked[r] = pool.submit(direct.link_edges, forests[r], part_edges)
        rows = [
            pool.submit(direct.stats_row, forests[r], edges[r] + linked[r].result())
            for r in range(count)
        ]
        table = np.stack([f.result() for f in rows])
        for handle, _ in meters:
            ctl.finish(handle)
        return table
    except BaseException:
        for handle, _ in meters:
            ctl.release(handle)
        pending: list[Future[Any]] = [f for f in (*drawn, *linked, *rows) if f is not None]
        for f in pending:
            f.cancel()
        wait(pending)  # a part already running ends before the call returns
        raise
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
