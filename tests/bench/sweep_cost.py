"""CPU time per draw of the ER sweep kernel against n, and what a second thread adds
(where its time goes; issue 10).

    .venv/bin/python -m tests.bench.sweep_cost [--repeat 12]

The 50-point grid c in [0, 4] of bench_percolation, ~2·10^6 draws per size. A cost flat in
n while the forest moves from L1 (n = 10^4) to L2 (10^5) means the pass is not waiting on
memory; a rise (10^6: 4 MB) means it is. CPU time, best of --repeat: wall time on a shared
2-core machine varies by ±25 %. The speed-up column runs the same replicates as two halves
on two threads (wall time, best of --repeat): what "as served on 2 threads" can gain here,
whatever the kernel.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from services.common.control import new_meter
from services.simulation.kernels import newman_ziff as nz
from services.simulation.kernels.rng import stream_states

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)
DRAWS = 2_000_000  # per size: replicates = DRAWS / draws per pass (at least 2, one per thread)


def best(run: Callable[[], object], repeat: int, clock: Callable[[], float]) -> float:
    """Best of ``repeat`` timings of ``run`` on ``clock`` (after one untimed call, which may
    compile or load the kernel)."""
    run()
    times = []
    for _ in range(repeat):
        start = clock()
        run()
        times.append(clock() - start)
    return min(times)


def measure(n: int, repeat: int, pool: ThreadPoolExecutor) -> tuple[int, float, float, float]:
    """(replicates, CPU ns a draw on one thread, window weights in MiB, wall-time speed-up of
    the same replicates as two halves on two threads) at size n."""
    lo, hi, off, weights = nz.er_weights(n, np.linspace(0.0, 4.0, 50))
    per_pass = int(hi.max()) + 1
    replicates = max(2, DRAWS // per_pass)
    states = stream_states(1, 0, replicates)

    def run(rows: slice) -> None:
        nz.er_sweep_weighted(n, lo, hi, off, weights, states[rows].copy(), new_meter())

    halves = (slice(0, replicates // 2), slice(replicates // 2, replicates))
    serial = best(lambda: run(slice(None)), repeat, time.process_time)
    wall = best(lambda: run(slice(None)), repeat, time.perf_counter)
    both = best(lambda: list(pool.map(run, halves)), repeat, time.perf_counter)
    ns = serial / (replicates * per_pass) * 1e9
    return replicates, ns, weights.nbytes / 2**20, wall / both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12)
    args = parser.parse_args()
    print(f"{'n':>9} {'replicates':>10} {'ns/draw':>8} {'window weights':>15} {'2 threads':>10}")
    with ThreadPoolExecutor(2) as pool:
        for n in SIZES:
            replicates, ns, mib, speedup = measure(n, args.repeat, pool)
            print(f"{n:>9} {replicates:>10} {ns:>8.1f} {mib:>11.2f} MiB {speedup:>9.2f}×")


if __name__ == "__main__":
    main()
