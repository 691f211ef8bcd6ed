"""A 1,000-replicate sweep embedded (threads here) against 1 and 2 local Dask workers.

    .venv/bin/python -m tests.bench.bench_dask [--replicates 1000] [--n 10000] [--points 20]

The workers are processes of a LocalCluster on loopback (one thread each, the kernels
loaded by the same preload as a real worker); the embedded run uses --threads threads.
Checks that every run returns the same bytes, and prints the wall times and ratios.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from distributed import LocalCluster

from services.simulation.cluster import DaskBlocks
from services.simulation.sweeps import Grid, sweep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--points", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    kw = {"n": args.n, "grid": Grid(0.0, 4.0, args.points), "replicates": args.replicates,
          "seed": 11}  # fmt: skip
    sweep(**{**kw, "replicates": 2})  # compile / load the kernels here
    t = time.perf_counter()
    ref = sweep(**kw, max_workers=args.threads).moments
    rows = [("embedded", args.threads, time.perf_counter() - t)]
    for workers in (1, 2):
        with LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1", preload=["services.simulation.dask_worker"],
        ) as cluster:  # fmt: skip
            blocks = DaskBlocks(cluster.scheduler_address, min_replicates=1)
            try:
                sweep(**{**kw, "replicates": 2}, cluster=blocks)  # connect, ship the package
                t = time.perf_counter()
                got = sweep(**kw, cluster=blocks).moments
                rows.append((f"dask, {workers} worker(s)", workers, time.perf_counter() - t))
            finally:
                blocks.close()
        assert np.array_equal(got, ref), "a Dask run changed the bytes"
    base = rows[0][2]
    print(f"sweep n={args.n}, {args.points} points, {args.replicates} replicates (same bytes)")
    print(f"{'engine':<22}{'threads':>8}{'seconds':>10}{'vs embedded':>13}")
    for name, threads, secs in rows:
        print(f"{name:<22}{threads:>8}{secs:>10.2f}{base / secs:>12.2f}×")


if __name__ == "__main__":
    main()
