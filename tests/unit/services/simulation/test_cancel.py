"""Cancelling a run: the kernels poll the meter's flag, stop early, and results don't change.

Truths: a cancel flag set before a kernel starts leaves it at step 0; one set while it runs
stops it long before the steps it announced; an uncancelled run that is watched (progress
read from another thread) gives the very bytes of an unwatched run, whatever the threads.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from services.common.control import CANCEL, DONE, STEP, STEPS, RunControl, new_meter
from services.common.errors import Cancelled
from services.simulation.abilities import simulate_abilities
from services.simulation.graphs import sample_graph
from services.simulation.kernels import direct
from services.simulation.kernels import newman_ziff as nz
from services.simulation.kernels.rng import stream_states, substream_states
from services.simulation.models import DegreeDistribution
from services.simulation.sweeps import Grid, sweep

BIG_N = 2_000_000  # one ER pass to c = 4 takes ~1 s here: long enough to cancel midway
GRID = Grid(0.0, 4.0, 9)


def er_sweep(n: int, cs: np.ndarray, states: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """The G(n, p) sweep kernel over its own Poisson windows, as sweeps.py calls it."""
    return nz.er_sweep_weighted(n, *nz.er_weights(n, cs), states, meter)


def _run_in_thread(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Start fn on a thread; returns (thread, box) where box gets 'result' or 'error'."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:
            box["error"] = exc
        box["ended"] = time.perf_counter()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def test_a_flag_set_before_the_kernel_starts_stops_it_at_step_zero() -> None:
    meter = new_meter()
    meter[CANCEL] = 1
    cs = np.linspace(0.0, 4.0, 5)
    er_sweep(10_000, cs, stream_states(1, 0, 3), meter)
    assert meter[DONE] == 0 and meter[STEP] == 0
    table = direct.gnp_batch(10_000, 1e-4, substream_states(1, 0, 2, direct.GNP_PARTS), meter)
    assert table.shape == (2, 4) and meter[DONE] == 0


def test_a_running_sweep_kernel_stops_soon_after_the_flag_is_set() -> None:
    meter = new_meter()
    cs = np.linspace(0.0, 4.0, 9)
    thread, box = _run_in_thread(er_sweep, BIG_N, cs, stream_states(2, 0, 1), meter)
    while meter[STEP] == 0 and thread.is_alive():
        time.sleep(0.001)
    cancelled_at = time.perf_counter()
    meter[CANCEL] = 1
    thread.join(5.0)
    assert not thread.is_alive() and "error" not in box
    assert float(box["ended"]) - cancelled_at < 0.2  # type: ignore[arg-type]
    assert meter[DONE] == 0 and 0 < meter[STEP] < meter[STEPS]  # stopped partway


@pytest.mark.parametrize("kernel", ["sample", "sweep"])
def test_gnm_kernels_stop_while_drawing_their_edges(kernel: str) -> None:
    """G(n, m) draws all its pairs before the first occupation: that walk polls the flag."""
    n, m, meter = 4_000_000, 8_000_000, new_meter()
    states = stream_states(3, 0, 1)
    if kernel == "sample":
        direct.gnm_batch(10, 5, states.copy(), new_meter())  # compiled before the clock runs
        thread, box = _run_in_thread(direct.gnm_batch, n, m, states, meter)
    else:
        ms = np.array([m], dtype=np.int64)
        nz.gnm_sweep_batch(10, ms // m * 5, states.copy(), new_meter())
        thread, box = _run_in_thread(nz.gnm_sweep_batch, n, ms, states, meter)
    time.sleep(0.05)
    cancelled_at = time.perf_counter()
    meter[CANCEL] = 1
    thread.join(10.0)
    assert not thread.is_alive() and "error" not in box
    assert float(box["ended"]) - cancelled_at < 0.2  # type: ignore[arg-type]
    assert meter[DONE] == 0 and meter[STEP] == 0  # stopped before its first occupation


def test_a_cancelled_sweep_raises_cancelled_well_before_it_would_end() -> None:
    control = RunControl()
    thread, box = _run_in_thread(
        sweep, n=BIG_N, grid=GRID, replicates=4, seed=3, max_workers=2, control=control
    )
    while control.done() == 0 and thread.is_alive():
        time.sleep(0.001)
    assert 0 < control.fraction() < 0.5
    cancelled_at = time.perf_counter()
    control.cancel()
    thread.join(10.0)
    assert isinstance(box.get("error"), Cancelled)
    assert float(box["ended"]) - cancelled_at < 0.5  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        ("erdos_renyi", {"n": BIG_N, "c": 4.0, "replicates": 1}),  # parts on two threads
        ("erdos_renyi", {"n": BIG_N // 2, "c": 4.0, "replicates": 4}),  # replicate blocks
        ("configuration", {"n": BIG_N, "degrees": None, "replicates": 2}),
    ],
)
def test_a_cancelled_sample_stops_early(model: str, kwargs: dict[str, object]) -> None:
    if model == "configuration":
        kwargs = {**kwargs, "degrees": DegreeDistribution(kind="poisson", mean=3.0)}
    control = RunControl()
    with ThreadPoolExecutor(2) as pool:
        thread, box = _run_in_thread(
            sample_graph, model, **kwargs, seed=4, executor=pool, max_workers=2, control=control
        )
        while control.done() == 0 and thread.is_alive():
            time.sleep(0.001)
        cancelled_at = time.perf_counter()
        control.cancel()
        thread.join(10.0)
    assert isinstance(box.get("error"), Cancelled), box
    assert float(box["ended"]) - cancelled_at < 0.5  # type: ignore[arg-type]


def test_cancelled_abilities_stop_early() -> None:
    control = RunControl()
    control.cancel()
    with pytest.raises(Cancelled):
        simulate_abilities([1e8, 1e9], k=4, items=100, replicates=8, seed=1, control=control)


@pytest.mark.parametrize("model", ["erdos_renyi", "square_lattice_bond", "configuration"])
def test_watched_runs_give_the_bytes_of_unwatched_ones(model: str) -> None:
    if model == "square_lattice_bond":
        kwargs: dict[str, object] = {"L": 64, "grid": Grid(0.3, 0.7, 9)}
    elif model == "configuration":
        degrees = DegreeDistribution(kind="poisson", mean=3.0)
        kwargs = {"n": 20_000, "degrees": degrees, "grid": Grid(0.1, 1.0, 9)}
    else:
        kwargs = {"n": 20_000, "grid": GRID}
    plain = sweep(model, **kwargs, replicates=6, seed=8)  # type: ignore[arg-type]
    control = RunControl()
    seen: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(control.done())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        watched = sweep(model, **kwargs, replicates=6, seed=8, max_workers=2, control=control)  # type: ignore[arg-type]
    finally:
        stop.set()
        watcher.join()
    assert watched.moments.tobytes() == plain.moments.tobytes()
    assert seen == sorted(seen) and control.done() == 6.0 and control.fraction() == 1.0
    table = sample_graph("erdos_renyi", n=20_000, c=2.0, replicates=3, seed=5)
    again = sample_graph(
        "erdos_renyi", n=20_000, c=2.0, replicates=3, seed=5, max_workers=2, control=RunControl()
    )
    assert again.table.tobytes() == table.table.tobytes()


def test_progress_moves_within_a_single_replicate() -> None:
    """One big replicate: the meter reports fractions between 0 and 1 while it runs."""
    control = RunControl()
    thread, _ = _run_in_thread(sweep, n=BIG_N, grid=GRID, replicates=1, seed=6, control=control)
    fractions = []
    while thread.is_alive():
        fractions.append(control.fraction())
        time.sleep(0.005)
    thread.join()
    inside = {round(f, 2) for f in fractions if 0.0 < f < 1.0}
    assert len(inside) >= 5, sorted(inside)
