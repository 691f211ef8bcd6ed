"""Replicate blocks as Dask tasks: the simulation service's one scale-out path.

With ``ZUHUR_SIMULATION_DASK_SCHEDULER`` set, ``replicates.run_replicates`` hands a request
of at least ``min_replicates`` replicates to ``DaskBlocks.run``: its replicates are cut into
contiguous blocks, each one Dask task calling the very same kernel (the package is imported
on the workers). Replicate r still draws from stream (seed, r), and the blocks are joined in
replicate order, so the rows are the bytes of a one-process run. A worker lost mid-run:
Dask reruns its tasks elsewhere, the same streams give the same bytes. The scheduler lost
mid-run (its connection closes, so Dask cancels every future): ``run`` raises
``SchedulerLost`` with the blocks that landed, and the caller computes the rest on local
threads (same streams, same bytes); the next run connects anew. A scheduler that is hung or
cut off while its TCP connection stays open (Dask notices nothing) is probed every
PROBE_SECONDS; silent for ``silent_seconds``, it counts as lost the same way. Cancelling the run
(its RunControl) sets a Dask Event the running tasks poll (their kernels stop at the next
meter check) and cancels the futures. Each finished block is logged at the scheduler
(topic ``BLOCK_TOPIC``: worker, first, count), the audit trail of where the work ran.
"""

from __future__ import annotations

import logging
import threading
import time
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

RETRY_SECONDS = 30.0
"""After the scheduler was unreachable or lost, runs stay local this long before the next
connection attempt (so a request does not wait ``connect_timeout`` each time)."""

PROBE_SECONDS = 2.0
"""How often a run asks its scheduler for a sign of life (``SchedulerProbe``)."""

BLOCKS_PER_THREAD = 4
"""Blocks per worker thread when ``batches`` is 0: small enough that uneven blocks and a
lost worker's rerun balance out, large enough that task overhead (~ms) stays negligible."""


class SchedulerLost(ConnectionError):
    """The Dask scheduler went away mid-run. ``landed``: rows of the blocks that finished,
    by their first replicate; ``missing``: the (first, count) blocks still to compute."""

    def __init__(self, landed: dict[int, np.ndarray], missing: list[tuple[int, int]]) -> None:
        super().__init__(f"Dask scheduler lost with {len(missing)} replicate blocks to run")
        self.landed = landed
        self.missing = missing


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


def _forget_event(client: Any, name: str) -> None:
    """Clear a cancelled run's stop Event once every watcher has seen it (a watcher waits at
    most WATCH_SECONDS): the scheduler then deletes it instead of keeping one per cancel."""
    from distributed import Event

    try:
        Event(name, client=client).clear()
    except Exception:  # the scheduler or client is gone: so is the Event
        log.debug("could not clear the stop Event %s", name, exc_info=True)


class SchedulerProbe:
    """Asks a client's scheduler for its identity every PROBE_SECONDS on a thread of its own
    while a run waits; ``silent_for()`` is how long since it last answered (or a block
    landed). A partition that keeps the TCP connection open, or a stopped scheduler, closes
    nothing, so Dask's futures would wait for ever."""

    def __init__(self, client: Any, every: float = PROBE_SECONDS) -> None:
        self._client = client
        self._every = every
        self._heard = time.monotonic()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="zuhur-dask-probe")

    def start(self) -> SchedulerProbe:
        self._thread.start()
        return self

    def heard(self) -> None:
        """A sign of life from elsewhere (a block landed)."""
        self._heard = time.monotonic()

    def silent_for(self) -> float:
        return time.monotonic() - self._heard

    def stop(self) -> None:
        """End the probing (a probe in flight ends by its own timeout; nobody waits)."""
        self._done.set()

    def _loop(self) -> None:
        while not self._done.wait(self._every):
            try:
                self._client.sync(self._client.scheduler.identity, callback_timeout=self._every)
            except Exception:  # no answer in time, or the connection failed: still silent
                continue
            self._heard = time.monotonic()


class DaskBlocks:
    """A connection to a Dask scheduler that runs replicate blocks (see the module doc)."""

    def __init__(
        self,
        address: str,
        *,
        min_replicates: int,
        batches: int = 0,
        connect_timeout: float = 10.0,
        silent_seconds: float = 15.0,
    ) -> None:
        self.address = address
        self.min_replicates = min_replicates
        self.batches = batches
        self.connect_timeout = connect_timeout
        self.silent_seconds = silent_seconds
        self._client: Any = None
        self._retry_at = 0.0  # monotonic time before which no connection is attempted
        self._lock = threading.Lock()

    def takes(self, count: int) -> bool:
        """Whether a run of ``count`` replicates goes to the cluster."""
        return count >= self.min_replicates

    def client(self) -> Any:
        """The distributed.Client, connected on first use; raises OSError when the scheduler
        is unreachable (and, for RETRY_SECONDS after a failure, without trying again)."""
        from distributed import Client

        with self._lock:
            if self._client is not None and self._client.status != "running":
                self._drop()  # lost its scheduler: connect anew
            if self._client is None:
                if time.monotonic() < self._retry_at:
                    raise OSError(f"Dask scheduler {self.address} failed recently")
                try:
                    self._client = Client(
                        self.address, timeout=self.connect_timeout, set_as_default=False
                    )
                except (OSError, TimeoutError):
                    self._retry_at = time.monotonic() + RETRY_SECONDS
                    raise
            return self._client

    def _drop(self) -> None:
        """Forget the current client (closed in the background: its scheduler may be gone,
        and closing would wait for it) and stay local for RETRY_SECONDS."""
        old, self._client = self._client, None
        self._retry_at = time.monotonic() + RETRY_SECONDS

        def close() -> None:
            try:
                old.close(timeout=self.connect_timeout)
            except Exception:  # already closing or closed: nothing to free
                log.debug("closing a lost Dask client failed", exc_info=True)

        threading.Thread(target=close, daemon=True, name="zuhur-dask-close").start()

    def lost(self) -> None:
        """The scheduler went away mid-run: reconnect later, not now (see ``client``)."""
        with self._lock:
            if self._client is not None:
                self._drop()

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
        probe = SchedulerProbe(client).start()
        try:
            while pending:
                control.check()
                landed.wait(POLL_SECONDS)
                landed.clear()
                if probe.silent_for() > self.silent_seconds:
                    raise self._lost_with(blocks, results, f"silent for {self.silent_seconds:g} s")
                for fut in [f for f in pending if f.done()]:
                    i, size = futures[fut]
                    try:
                        results[i] = fut.result()
                    except Exception:
                        # cancelled under us (Dask cancels every future when the scheduler
                        # connection closes) or not gatherable for want of a scheduler
                        if not control.cancelled and (
                            fut.status == "cancelled" or client.status != "running"
                        ):
                            raise self._lost_with(blocks, results, "lost") from None
                        raise
                    pending.discard(fut)
                    probe.heard()
                    control.finish(handles.pop(fut.key))
                    if progress is not None:
                        progress(size)
        except SchedulerLost:
            for handle in handles.values():
                control.release(handle)
            raise  # no stop Event to set, no futures to cancel: the scheduler is gone
        except BaseException:
            for handle in handles.values():
                control.release(handle)
            try:
                Event(stop_name, client=client).set()  # running kernels stop at their next check
            except Exception:  # pragma: no cover - the scheduler went away; nothing runs
                log.warning("could not signal stop to the Dask workers", exc_info=True)
            client.cancel([*futures, held], force=True)  # the scheduler forgets the blocks
            forget = threading.Timer(3 * WATCH_SECONDS, _forget_event, (client, stop_name))
            forget.daemon = True
            forget.start()
            raise
        finally:
            probe.stop()
        client.cancel([held])
        return np.concatenate([r for r in results if r is not None], axis=0)

    def _lost_with(
        self, blocks: list[tuple[int, int]], results: list[np.ndarray | None], how: str
    ) -> SchedulerLost:
        """The SchedulerLost of a run whose scheduler went away (``how``: lost, silent...)."""
        self.lost()
        landed = {blocks[i][0]: r for i, r in enumerate(results) if r is not None}
        missing = [b for i, b in enumerate(blocks) if results[i] is None]
        log.warning(
            "Dask scheduler %s %s mid-run: %d of %d blocks to run here",
            self.address,
            how,
            len(missing),
            len(blocks),
        )
        return SchedulerLost(landed, missing)

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
