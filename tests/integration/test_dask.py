"""A real local Dask cluster (a scheduler and two one-thread workers on loopback): requests
run there give the bytes of a one-process run, the blocks really ran on the workers (the
scheduler's event log), a SIGKILLed worker's blocks are rerun with the same bytes, a
client hanging up stops the workers' kernels and leaves no task on the scheduler, and a
SIGKILLed scheduler leaves the rest of the sweep to the service's threads (same bytes)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from distributed import Client

from services.simulation.cluster import BLOCK_TOPIC
from tests.integration.stack import Stack, free_port, stack_ports, wait_serving
from zuhur.v1 import simulation_pb2, simulation_pb2_grpc

WORKERS = ("dask-worker-0", "dask-worker-1")
SERVICE = "zuhur.v1.Simulation"
ZUHUR_KEYS = ("zuhur-block-", "zuhur-kernel-")


def _stub(stack: Stack) -> Iterator[simulation_pb2_grpc.SimulationStub]:
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports['simulation']}") as channel:
        yield simulation_pb2_grpc.SimulationStub(channel)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, numba_cache: Path
) -> Iterator[tuple[Stack, Stack, Client]]:
    """(one-process simulation, simulation on the Dask cluster, a client of the scheduler)."""
    root = tmp_path_factory.mktemp("dask")
    local = Stack(root, numba_cache, ports=stack_ports())
    ports = {**stack_ports(), "dask_scheduler": free_port()}
    env = {
        "ZUHUR_SIMULATION_DASK_SCHEDULER": f"tcp://127.0.0.1:{ports['dask_scheduler']}",
        "ZUHUR_SIMULATION_DASK_MIN_REPLICATES": "4",
    }
    (root / "remote").mkdir()
    remote = Stack(root / "remote", numba_cache, ports=ports, extra_env=env)
    client = None
    try:
        remote.start("dask-scheduler")
        local.start("simulation")  # warms (compiles) the kernels into the shared cache,
        wait_serving(local.ports["simulation"], SERVICE)
        remote.start("simulation")  # which the second service and the workers then load
        wait_serving(remote.ports["simulation"], SERVICE)
        for name in WORKERS:
            remote.start(name)
        client = Client(env["ZUHUR_SIMULATION_DASK_SCHEDULER"], set_as_default=False, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield local, remote, client
    finally:
        if client is not None:
            client.close()
        remote.close()
        local.close()


def _worker_addresses(client: Client) -> dict[str, str]:
    """Worker name -> address, as the scheduler knows them."""
    return {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}


def _blocks(client: Client) -> list[dict[str, Any]]:
    """Every replicate block the workers finished so far (the scheduler's event log)."""
    return [msg for _, msg in client.get_events(BLOCK_TOPIC)]


def _sweep(stack: Stack, request: simulation_pb2.SweepRequest) -> bytes:
    for stub in _stub(stack):
        events = list(stub.Sweep(request, timeout=120))
    assert events[-1].WhichOneof("event") == "curve"
    return events[-1].curve.SerializeToString()


def _covers(blocks: list[dict[str, Any]], replicates: int) -> bool:
    """Whether the blocks' replicates are exactly 0..replicates-1 (each once)."""
    seen = sorted(r for b in blocks for r in range(b["first"], b["first"] + b["count"]))
    return seen == list(range(replicates))


def test_dask_gives_the_bytes_of_one_process_and_runs_on_the_workers(
    cluster: tuple[Stack, Stack, Client],
) -> None:
    local, remote, client = cluster
    sweep = simulation_pb2.SweepRequest(model="erdos_renyi", n=20_000, replicates=12, seed=123)
    sweep.grid.start, sweep.grid.stop, sweep.grid.points = 0.5, 3.0, 11
    before = len(_blocks(client))
    assert _sweep(remote, sweep) == _sweep(local, sweep)
    blocks = _blocks(client)[before:]
    assert _covers(blocks, 12)
    assert {b["worker"] for b in blocks} == set(_worker_addresses(client).values())

    sample = simulation_pb2.SampleGraphRequest(model="erdos_renyi", n=50_000, c=2.0, seed=9)
    sample.replicates = 8
    abilities = simulation_pb2.SimulateAbilitiesRequest(
        sizes=[1e8, 1e9, 1e10], k=4, items=200, replicates=8, seed=4
    )
    replies = []
    for stack in (local, remote):
        for stub in _stub(stack):
            replies.append(
                (
                    stub.SampleGraph(sample, timeout=60).SerializeToString(),
                    stub.SimulateAbilities(abilities, timeout=60).SerializeToString(),
                )
            )
    assert replies[0] == replies[1]
    assert len(_blocks(client)) > before + len(blocks)  # those two ran there as well


def test_a_worker_killed_mid_sweep_changes_no_byte(cluster: tuple[Stack, Stack, Client]) -> None:
    local, remote, client = cluster
    # n = 10^6: a block lasts ~0.3 s, so the kill lands while the victim still runs what it
    # was seen holding (at n = 10^5 a block took ~25 ms with the sim-0.3 kernel: it could
    # finish between the poll and the kill, and then rightly not run again elsewhere)
    sweep = simulation_pb2.SweepRequest(model="erdos_renyi", n=1_000_000, replicates=32, seed=7)
    sweep.grid.start, sweep.grid.stop, sweep.grid.points = 0.0, 4.0, 21
    expected = _sweep(local, sweep)
    before = len(_blocks(client))
    victim = _worker_addresses(client)["dask-worker-1"]
    box: dict[str, bytes] = {}
    runner = threading.Thread(target=lambda: box.update(curve=_sweep(remote, sweep)))
    runner.start()
    deadline = time.monotonic() + 60
    lost: set[int] = set()
    while not lost:  # kill it while it holds a replicate block
        assert time.monotonic() < deadline and runner.is_alive()
        keys = client.processing([victim]).get(victim, [])
        lost = {int(k.rsplit("-", 1)[1]) for k in keys if k.startswith("zuhur-block-")}
        time.sleep(0.02)
    remote.stop("dask-worker-1", signal.SIGKILL)
    runner.join(120)
    try:
        assert box["curve"] == expected
        blocks = _blocks(client)[before:]
        # Dask runs a task at least once: a block the victim logged just before its result
        # reached the scheduler is rerun elsewhere and logged twice; count that one once
        elsewhere = {b["first"] for b in blocks if b["worker"] != victim}
        assert _covers(
            [b for b in blocks if b["worker"] != victim or b["first"] not in elsewhere], 32
        )
        # at least one block it held when killed ran again on the other worker
        assert any(b["first"] in lost and b["worker"] != victim for b in blocks)
    finally:
        remote.start("dask-worker-1")
        client.wait_for_workers(2, timeout=60)


def _executing(client: Client) -> int:
    """Tasks the workers are running right now (not merely assigned to them)."""
    return sum(client.run(lambda dask_worker: len(dask_worker.state.executing)).values())


def _zuhur_tasks(client: Client) -> list[str]:
    """Keys of replicate-block and kernel tasks the scheduler still holds, in any state."""

    def keys(dask_scheduler: Any) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks if str(k).startswith(ZUHUR_KEYS)]

    return list(client.run_on_scheduler(keys))


def test_a_client_hanging_up_stops_the_workers(cluster: tuple[Stack, Stack, Client]) -> None:
    """The service notices the hang-up (within cluster.POLL_SECONDS), sets the stop Event and
    cancels its futures: the kernels stop and the scheduler forgets every block. Each step
    lands asynchronously, so the test waits for the end state under a deadline (before, it
    read processing() once, racing the service's cancel: the flake of CI run 17)."""
    _, remote, client = cluster
    sweep = simulation_pb2.SweepRequest(model="erdos_renyi", n=1_000_000, replicates=64, seed=3)
    sweep.grid.start, sweep.grid.stop, sweep.grid.points = 0.0, 4.0, 21
    for stub in _stub(remote):
        stream = stub.Sweep(sweep, timeout=120)
        assert next(stream).progress.total == 64
        deadline = time.monotonic() + 30
        while not _executing(client):  # a kernel really runs (assigned is not enough)
            assert time.monotonic() < deadline
            time.sleep(0.02)
        stream.cancel()
    deadline = time.monotonic() + 20
    while True:
        running, held = _executing(client), _zuhur_tasks(client)
        if not running and not held:
            break
        assert time.monotonic() < deadline, (
            f"after the hang-up the workers still run {running} tasks and the scheduler "
            f"holds {held}"
        )
        time.sleep(0.1)
    assert not any(client.processing().values())


def test_a_scheduler_killed_mid_sweep_finishes_here_with_the_same_bytes(
    cluster: tuple[Stack, Stack, Client],
) -> None:
    """Last in the module: it takes the scheduler (and with it the nanny-less workers) down.
    The service runs the blocks that had not landed on its own threads: same bytes, and
    the fallback is counted and logged."""
    local, remote, client = cluster
    sweep = simulation_pb2.SweepRequest(model="erdos_renyi", n=1_000_000, replicates=16, seed=21)
    sweep.grid.start, sweep.grid.stop, sweep.grid.points = 0.0, 4.0, 11
    expected = _sweep(local, sweep)
    metric = "zuhur_simulation_cluster_fallbacks_total"
    before = remote.metric("simulation", metric, reason="lost")
    box: dict[str, bytes] = {}
    runner = threading.Thread(target=lambda: box.update(curve=_sweep(remote, sweep)))
    runner.start()
    deadline = time.monotonic() + 60
    while not _executing(client):  # kill it while the workers run the sweep's blocks
        assert time.monotonic() < deadline and runner.is_alive()
        time.sleep(0.02)
    remote.stop("dask-scheduler", signal.SIGKILL)
    try:
        runner.join(180)
        assert not runner.is_alive(), "the sweep never finished after the scheduler died"
        assert box["curve"] == expected
        assert remote.metric("simulation", metric, reason="lost") == before + 1
        log = (remote.log_dir / "simulation.log").read_text(errors="replace")
        assert "lost mid-run" in log
    finally:
        remote.start("dask-scheduler")  # best effort: leave a cluster for whatever runs next
        for name in WORKERS:
            remote.stop(name, signal.SIGKILL)
            remote.start(name)
