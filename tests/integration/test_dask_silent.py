"""A Dask scheduler that goes silent mid-sweep with its TCP connection open (SIGSTOP: the
kernel still acknowledges its packets, as across a partition that drops nothing, so Dask
notices nothing): the run takes it as lost after ``silent_seconds`` and computes the blocks
that had not landed here, giving the bytes of a one-process run (truth: the same sweep
without a cluster), and counts the fallback."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from distributed import Client
from prometheus_client import REGISTRY

from services.simulation.cluster import PROBE_SECONDS, DaskBlocks
from services.simulation.sweeps import Grid, sweep
from tests.integration.stack import Stack, free_port, stack_ports

SILENT = 3.0


def _lost() -> float:
    value = REGISTRY.get_sample_value(
        "zuhur_simulation_cluster_fallbacks_total", {"reason": "lost"}
    )
    return value or 0.0


def test_a_scheduler_silent_mid_sweep_is_taken_as_lost_and_the_rest_runs_here(
    tmp_path: Path, numba_cache: Path
) -> None:
    ports = {**stack_ports(), "dask_scheduler": free_port()}
    address = f"tcp://127.0.0.1:{ports['dask_scheduler']}"
    stack = Stack(tmp_path, numba_cache, ports=ports)
    watcher = None
    try:
        stack.start("dask-scheduler")
        stack.start("dask-worker-0")
        watcher = Client(address, set_as_default=False, timeout=30)
        watcher.wait_for_workers(1, timeout=60)
        kw: dict[str, Any] = {
            "n": 1_000_000, "grid": Grid(0.0, 4.0, 9), "replicates": 8, "seed": 31,
        }  # fmt: skip
        expected = sweep(**kw, max_workers=1)
        blocks = DaskBlocks(address, min_replicates=2, batches=8, silent_seconds=SILENT)
        before = _lost()
        box: dict[str, Any] = {}

        def run() -> None:
            box["result"] = sweep(**kw, max_workers=1, cluster=blocks)

        runner = threading.Thread(target=run)
        runner.start()
        deadline = time.monotonic() + 60
        while not any(watcher.processing().values()):  # stop it while a block runs
            assert time.monotonic() < deadline and runner.is_alive()
            time.sleep(0.02)
        stack.procs["dask-scheduler"].send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        runner.join(120)
        assert not runner.is_alive(), "the sweep waited on a silent scheduler"
        # silence counts from the last answer, at most one probe period before the stop
        assert time.monotonic() - stopped >= SILENT - PROBE_SECONDS
        assert np.array_equal(box["result"].moments, expected.moments)
        assert _lost() == before + 1
        blocks.close()
    finally:
        if "dask-scheduler" in stack.procs:
            stack.procs["dask-scheduler"].send_signal(signal.SIGCONT)
        if watcher is not None:
            watcher.close(timeout=5)
        stack.close()
