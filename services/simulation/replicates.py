"""Run a per-replicate kernel over replicate batches, serially or on threads, in order.

Replicate r always draws from ``rng.stream_state(seed, r)`` (or its fixed sub-streams), so
the rows returned are the same bytes whatever the batching, thread count or executor; only
the wall time and the order in which progress is reported change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from services.common.control import RunControl
from services.common.metrics import CLUSTER_FALLBACKS
from services.simulation.kernels.rng import stream_states, substream_states

if TYPE_CHECKING:
    from services.simulation.cluster import DaskBlocks

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""progress(done, total): replicates finished so far out of the request's total."""

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""kernel(states, meter) -> rows, one per replicate of the block of stream states."""


def contiguous_batches(first: int, count: int, pieces: int) -> list[tuple[int, int]]:
    """Split replicates first..first+count-1 into at most ``pieces`` contiguous (start, size)."""
    pieces = max(1, min(pieces, count))
    base, extra = divmod(count, pieces)
    out = []
    start = first
    for i in range(pieces):
        size = base + (1 if i < extra else 0)
        out.append((start, size))
        start += size
    return out


def run_replicates(
    kernel: Kernel,
    seed: int,
    first: int,
    count: int,
    *,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: Progress | None = None,
    progress_total: int | None = None,
    progress_offset: int = 0,
    parts: int = 0,
    control: RunControl | None = None,
    cluster: DaskBlocks | None = None,
) -> np.ndarray:
    """Apply ``kernel(states, meter)`` to replicates first..first+count-1, rows in order.

    ``kernel`` maps a (k, 4) uint64 block of stream states and a meter (kernels.meter) to
    an array whose first axis has length k (a nogil numba kernel, so threads run it in
    parallel). With an ``executor`` (or ``max_workers`` > 1, which makes a private thread
    pool) the blocks run concurrently; ``progress(done, total)`` is called after each
    block finishes, with ``done`` counted from ``progress_offset`` and ``total`` =
    ``progress_total``. With ``parts`` > 0 the kernel gets (k, parts, 4) blocks of
    sub-stream states ``rng.substream_states(seed, start, size, parts)`` instead.
    A ``control`` hands each block its meter (progress, and the cancel flag the kernel
    polls); once it is cancelled no block starts and ``Cancelled`` is raised.
    With a ``cluster`` that takes ``count`` replicates, the blocks run as Dask tasks on its
    workers instead (cluster.py; the same rows), or here when its scheduler is unreachable;
    if the scheduler is lost mid-run, the blocks that had not landed run here (same rows).
    Either fallback is logged and counted (``zuhur_simulation_cluster_fallbacks_total``).
    """
    total = progress_total if progress_total is not None else count
    ctl = control if control is not None else RunControl()
    here = partial(
        _run_here,
        kernel,
        seed,
        executor=executor,
        max_workers=max_workers,
        progress=progress,
        total=total,
        parts=parts,
        control=ctl,
    )
    if cluster is not None and cluster.takes(count):
        from services.simulation.cluster import SchedulerLost

        try:
            cluster.client()
        except (OSError, TimeoutError):
            log.warning("Dask scheduler %s unreachable: running here", cluster.address)
            CLUSTER_FALLBACKS.labels("unreachable").inc()
        else:
            landed = [progress_offset]

            def on_block(size: int) -> None:
                landed[0] += size
                if progress is not None:
                    progress(landed[0], total)

            try:
                return cluster.run(
                    kernel, seed, first, count, parts=parts, control=ctl, progress=on_block
                )
            except SchedulerLost as lost:
                CLUSTER_FALLBACKS.labels("lost").inc()
                rows = dict(lost.landed)
                done = landed[0]
                for start, size in lost.missing:  # the rest here, from the same streams
                    rows[start] = here(start, size, offset=done)
                    done += size
                return np.concatenate([rows[start] for start in sorted(rows)], axis=0)
    return here(first, count, offset=progress_offset)


def _run_here(
    kernel: Kernel,
    seed: int,
    first: int,
    count: int,
    *,
    executor: Executor | None,
    max_workers: int | None,
    progress: Progress | None,
    total: int,
    offset: int,
    parts: int,
    control: RunControl,
) -> np.ndarray:
    """``run_replicates`` on this process's threads (progress counted from ``offset``)."""
    workers = max_workers or 1
    parallel = executor is not None or workers > 1
    # several blocks per worker so uneven blocks balance out (progress comes from meters)
    pieces = 4 * max(workers, 2) if parallel else 16
    blocks = contiguous_batches(first, count, pieces)

    def run_block(start: int, size: int) -> np.ndarray:
        control.check()
        handle, meter = control.meter(size)
        try:
            if parts > 0:
                rows = kernel(substream_states(seed, start, size, parts), meter)
            else:
                rows = kernel(stream_states(seed, start, size), meter)
            control.check()  # a cancelled kernel returns early with unusable rows
        except BaseException:
            control.release(handle)
            raise
        control.finish(handle)
        return rows

    results: list[np.ndarray | None] = [None] * len(blocks)
    done = offset
    if not parallel:
        for i, (start, size) in enumerate(blocks):
            results[i] = run_block(start, size)
            done += size
            if progress is not None:
                progress(done, total)
    else:
        own = executor is None
        pool = executor if executor is not None else ThreadPoolExecutor(max_workers=workers)
        try:
            pending: dict[Future[np.ndarray], int] = {
                pool.submit(run_block, start, size): i for i, (start, size) in enumerate(blocks)
            }
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        i = pending.pop(fut)
                        results[i] = fut.result()
                        done += blocks[i][1]
                        if progress is not None:
                            progress(done, total)
            except BaseException:
                control.cancel()  # blocks already running stop at their next check
                for fut in pending:
                    fut.cancel()
                wait(pending)
                raise
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
    return np.concatenate([r for r in results if r is not None], axis=0)
