"""Replicate blocks as Dask tasks: the simulation service's one scale-out path.

With ``ZUHUR_SIMULATION_DASK_SCHEDULER`` set, ``replicates.run_replicates`` hands a request
of at least ``min_replicates`` replicates to ``DaskBlocks.run``: its replicates are cut into
contiguous blocks, each one Dask task calling the very same kernel (the package is imported
on the workers). Replicate r still draws from stream (seed, r), and the blocks are joined in
replicate order, so the rows are the bytes of a one-process run. A worker lost mid-run:
Dask reruns its tasks elsewhere, the same streams give the same bytes. Cancelling the run
(its RunControl) sets a Dask Event the running tasks poll (their kernels stop at the next
meter check) and cancels the futures. Each finished block is logged at the scheduler
(topic ``BLOCK_TOPIC``: worker, first, count), the audit trail of where the work ran.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from services.common.control import CANCEL, RunControl, new_meter
from services.common.errors import Cancelled
from services.simulation.kernels.rng import stream_states, substream_states
from services.simulation.replicates import Kernel, contiguous_batches

log = logging.getLogger(__name__)

BLOCK_TOPIC = "zuhur-simulation-blocks"
"""Scheduler event topic: one {worker, first, count} per finished replicate block."""

POLL_SECONDS = 0.25
"""How often the coordinator checks its RunControl for cancellation."""

WATCH_SECONDS = 2.0
"""Long-poll period of a task's wait on the stop Event (a set Event answers at once, so
this bounds the RPC rate to the scheduler, not the cancel latency)."""

BLOCKS_PER_THREAD = 4
"""Blocks per worker thread when ``batches`` is 0: small enough that uneven blocks and a
lost worker's rerun balance out, large enough that task overhead (~ms) stays negligible."""


def _hold(kernel: Kernel) -> Kernel:
    """A task that returns the kernel, so its data (e.g. convolution weights) travel once per
    worker; a lost copy is recomputed from the task like any other result."""
    return kernel


def run_block(
    kernel: Kernel, seed: int, start: int, size: int, parts: int, stop_name: str
) -> np.ndarray:
    """Worker side: replicates start..start+size-1 with the kernel, stopped early (Cancelled)
    when the coordinator sets the Dask Event ``stop_name``."""
    from distributed import Event, get_client, get_worker

    meter = new_meter()
    stop = Event(stop_name, client=get_client())
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            try:
                if stop.wait(timeout=WATCH_SECONDS):
                    meter[CANCEL] = 1
                    return
            except Exception:  # the scheduler is gone: the task's result is moot anyway
                return

    watcher = threading.Thread(target=watch, daemon=True, name="zuhur-stop-watch")
    watcher.start()
    try:
        if parts > 0:
            rows = kernel(substream_states(seed, start, size, parts), meter)
        else:
            rows = kernel(stream_states(seed, start, size), meter)
    finally:
        finished.set()
    if meter[CANCEL]:
        raise Cancelled("the computation was cancelled")
    worker = get_worker()
    worker.log_event(BLOCK_TOPIC, {"worker": worker.address, "first": start, "count": size})
    return rows


class DaskBlocks:
    """A connection to a Dask scheduler that runs replicate blocks (see the module doc)."""

    def __init__(
        self,
        address: str,
        *,
        min_replicates: int,
        batches: int = 0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.address = address
        self.min_replicates = min_replicates
        self.batches = batches
        self.connect_timeout = connect_timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def takes(self, count: int) -> bool:
        """Whether a run of ``count`` replicates goes to the cluster."""
        return count >= self.min_replicates

    def client(self) -> Any:
        """The distributed.Client, connected on first use (raises OSError when unreachable)."""
        from distributed import Client

        with self._lock:
            if self._client is None:
                self._client = Client(
                    self.address, timeout=self.connect_timeout, set_as_default=False
                )
            return self._client

    def pieces(self, client: Any) -> int:
        """Blocks a run is cut into: ``batches``, else BLOCKS_PER_THREAD per worker thread."""
        if self.batches > 0:
            return self.batches
        return BLOCKS_PER_THREAD * max(1, sum(client.nthreads().values()))

    def run(
        self,
        kernel: Kernel,
        seed: int,
        first: int,
        count: int,
        *,
        parts: int,
        control: RunControl,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Rows of replicates first..first+count-1, in order, computed by the workers.

        ``progress(size)`` is called as each block lands; ``control`` counts each block's
        replicates as done when it lands and stops the run (Cancelled) once cancelled.
        """
        from distributed import Event

        client = self.client()
        blocks = contiguous_batches(first, count, self.pieces(client))
        token = uuid.uuid4().hex
        stop_name = f"zuhur-stop-{token}"
        held = client.submit(_hold, kernel, key=f"zuhur-kernel-{token}", pure=False)
        futures = {
            client.submit(
                run_block, held, seed, start, size, parts, stop_name,
                key=f"zuhur-block-{token}-{start}", pure=False,
            ): (i, size)
            for i, (start, size) in enumerate(blocks)
        }  # fmt: skip
        handles = {f.key: control.meter(size)[0] for f, (_, size) in futures.items()}
        results: list[np.ndarray | None] = [None] * len(blocks)
        landed = threading.Event()
        for fut in futures:
            fut.add_done_callback(lambda _: landed.set())
        pending = set(futures)
        try:
            while pending:
                control.check()
                landed.wait(POLL_SECONDS)
                landed.clear()
                for fut in [f for f in pending if f.done()]:
                    pending.discard(fut)
                    i, size = futures[fut]
                    results[i] = fut.result()
                    control.finish(handles.pop(fut.key))
                    if progress is not None:
                        progress(size)
        except BaseException:
            for handle in handles.values():
                control.release(handle)
            try:
                Event(stop_name, client=client).set()  # running kernels stop at their next check
            except Exception:  # pragma: no cover - the scheduler went away; nothing runs
                log.warning("could not signal stop to the Dask workers", exc_info=True)
            client.cancel([*futures, held], force=True)
            raise
        client.cancel([held])
        return np.concatenate([r for r in results if r is not None], axis=0)

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
