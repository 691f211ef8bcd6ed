"""CPU time per draw of the ER sweep kernel against n (where its time goes; issue 10).

    .venv/bin/python -m tests.bench.sweep_cost [--repeat 12]

The 50-point grid c in [0, 4] of bench_percolation, ~2·10^6 draws per size. A cost flat in
n while the forest moves from L1 (n = 10^4) to L2 (10^5) means the pass is bound by the
union–find's dependent loads and branches; a rise (10^6: 4 MB) means it waits on memory.
CPU time, best of --repeat: wall time on a shared 2-core machine varies by ±25 %.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from services.common.control import new_meter
from services.simulation.kernels import newman_ziff as nz
from services.simulation.kernels.rng import stream_states

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)
DRAWS = 2_000_000  # per size: replicates = DRAWS / draws per pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=12)
    args = parser.parse_args()
    print(f"{'n':>9} {'replicates':>10} {'ns/draw':>8} {'window weights':>15}")
    for n in SIZES:
        lo, hi, off, weights = nz.er_weights(n, np.linspace(0.0, 4.0, 50))
        per_pass = int(hi.max()) + 1
        replicates = max(1, DRAWS // per_pass)
        best = float("inf")
        for _ in range(args.repeat + 1):  # the first call may compile or load the kernel
            states = stream_states(1, 0, replicates)
            start = time.process_time()
            nz.er_sweep_weighted(n, lo, hi, off, weights, states, new_meter())
            best = min(best, time.process_time() - start)
        ns = best / (replicates * per_pass) * 1e9
        print(f"{n:>9} {replicates:>10} {ns:>8.1f} {weights.nbytes / 2**20:>12.2f} MiB")


if __name__ == "__main__":
    main()
