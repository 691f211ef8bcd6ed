"""Percolation engine against its peers, measured in one run on this machine (issue 3, Speed).

    .venv/bin/python -m tests.bench.bench_percolation            # bounded default run
    .venv/bin/python -m tests.bench.bench_percolation --full     # peers at full size too

1. one Erdős–Rényi realization, n = 10^6, c = 2 (generate + components): ours (direct
   sampling, geometric skipping; serial, and its pair space split over 2 threads) against
   numpy edges + scipy.sparse.csgraph, igraph, networkit (one thread) and networkx (run at
   n = 10^5 and scaled ×10 unless --full).
2. a sweep of 50 grid points × 20 replicates at n = 10^5, c in [0, 4]: ours (Newman–Ziff,
   serial and on 2 threads) against the numpy+scipy and igraph loops over points and
   replicates (run on a subset of replicates and scaled unless --full) and a plain
   Python/numpy Newman–Ziff with the same binomial convolution.
3. peak RSS of one realization at n = 10^7, c = 2, in a fresh subprocess (and the RSS of
   the same imports alone); with --big also n = 10^8 on 2 threads (time and peak RSS).
Also: do 2 threads across replicates help, and is a parallel=True (prange) kernel better?
Times are the best of --repeat runs (wall clock; the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

from services.common.control import new_meter
from services.simulation.graphs import sample_graph
from services.simulation.kernels import direct
from services.simulation.kernels.rng import stream_states, substream_states
from services.simulation.kernels.unionfind import new_forest, summarize
from services.simulation.sweeps import Grid, sweep
from tests.bench.timing import best_of


@dataclass
class Row:
    task: str
    who: str
    seconds: float
    note: str = ""


# ----------------------------------------------------------------------------- peers


def scipy_er(n: int, p: float, rng: np.random.Generator) -> int:
    """numpy: M ~ Binomial(N, p) random pairs; scipy: connected components. Returns largest."""
    m = rng.binomial(n * (n - 1) // 2, p)
    u = rng.integers(0, n, m, dtype=np.int32)
    v = rng.integers(0, n, m, dtype=np.int32)
    g = sparse.coo_matrix((np.ones(m, dtype=np.int8), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(g, directed=False)
    return int(np.bincount(labels).max())


def igraph_er(n: int, p: float) -> int:
    import igraph

    g = igraph.Graph.Erdos_Renyi(n=n, p=p)
    return max(g.connected_components().sizes())


def networkit_er(n: int, p: float) -> int:
    import networkit as nk

    nk.setNumberOfThreads(1)
    g = nk.generators.ErdosRenyiGenerator(n, p).generate()
    cc = nk.components.ConnectedComponents(g)
    cc.run()
    return max(cc.getComponentSizes().values())


def networkx_er(n: int, p: float, seed: int) -> int:
    import networkx as nx

    g = nx.fast_gnp_random_graph(n, p, seed=seed)
    return max(len(c) for c in nx.connected_components(g))


def python_newman_ziff(n: int, cs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One NZ pass in plain Python/numpy: random pairs up to the top of the Poisson tail,
    union–find on Python lists, S and clusters recorded per draw, then the Poisson
    convolution as a dense matrix product. Returns S at each c (one replicate)."""
    lams = -0.5 * n * n * np.log1p(-cs / (n - 1))
    top = int(lams.max() + 10 * np.sqrt(lams.max()) + 10)
    us = rng.integers(0, n, top).tolist()
    vs = rng.integers(0, n, top).tolist()
    ptr = [-1] * n
    largest = 1
    s_of_k = np.empty(top + 1)
    s_of_k[0] = 1.0 / n
    for k in range(top):
        a, b = us[k], vs[k]
        while ptr[a] >= 0:
            a = ptr[a]
        while ptr[b] >= 0:
            b = ptr[b]
        if a != b:
            if ptr[a] > ptr[b]:
                a, b = b, a
            ptr[a] += ptr[b]
            ptr[b] = a
            x = us[k]  # compress the two paths onto the new root
            while ptr[x] >= 0 and x != a:
                ptr[x], x = a, ptr[x]
            x = vs[k]
            while ptr[x] >= 0 and x != a:
                ptr[x], x = a, ptr[x]
            largest = max(largest, -ptr[a])
        s_of_k[k + 1] = largest / n
    weights = stats.poisson.pmf(np.arange(top + 1)[None, :], lams[:, None])
    return weights @ s_of_k / weights.sum(axis=1)


@njit(parallel=True, nogil=True)
def gnp_batch_prange(n: int, p: float, states: np.ndarray) -> np.ndarray:
    """One single-stream G(n, p) per replicate (direct.gnp_into_forest), spread by prange."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    for r in prange(states.shape[0]):
        ptr = new_forest(n)
        edges = direct.gnp_into_forest(ptr, p, states[r])
        largest, second, components = summarize(ptr)
        out[r, 0] = edges
        out[r, 1] = largest
        out[r, 2] = second
        out[r, 3] = components
    return out


# ------------------------------------------------------------------------------ tasks


def task_realization(full: bool, repeat: int) -> list[Row]:
    n, c = 10**6, 2.0
    p = c / (n - 1)
    rng = np.random.default_rng(1)
    name = "1. ER n=1e6 c=2"
    rows = [
        Row(name, "zuhur sample_graph", best_of(lambda: sample_graph(n=n, c=c, seed=1), repeat)),
        Row(
            name,
            "zuhur sample_graph, 2 thr",
            best_of(lambda: sample_graph(n=n, c=c, seed=1, max_workers=2), repeat),
            f"pair space in {direct.GNP_PARTS} parts, pipelined",
        ),
        Row(
            name,
            "zuhur kernel only",
            best_of(
                lambda: direct.gnp_batch(
                    n, p, substream_states(1, 0, 1, direct.GNP_PARTS), new_meter()
                ),
                repeat,
            ),
        ),
        Row(name, "numpy+scipy", best_of(lambda: scipy_er(n, p, rng), repeat)),
        Row(name, "igraph", best_of(lambda: igraph_er(n, p), repeat)),
        Row(name, "networkit (1 thread)", best_of(lambda: networkit_er(n, p), repeat)),
    ]
    if full:
        rows.append(Row(name, "networkx", best_of(lambda: networkx_er(n, p, 1), 1)))
    else:
        small = best_of(lambda: networkx_er(n // 10, c / (n // 10 - 1), 1), 1)
        rows.append(Row(name, "networkx", 10 * small, "run at n=1e5, ×10 (capped)"))
    return rows


def task_sweep(full: bool, repeat: int) -> list[Row]:
    n, points, reps = 10**5, 50, 20
    grid = Grid(0.0, 4.0, points)
    cs = np.linspace(0.0, 4.0, points)
    name = "2. sweep n=1e5 50×20"
    rows = [
        Row(
            name,
            "zuhur sweep",
            best_of(lambda: sweep(n=n, grid=grid, replicates=reps, seed=1), repeat),
        ),
        Row(
            name,
            "zuhur sweep, 2 threads",
            best_of(lambda: sweep(n=n, grid=grid, replicates=reps, seed=1, max_workers=2), repeat),
        ),
    ]
    loop_reps = reps if full else 2
    scale = reps / loop_reps
    note = "" if full else f"{loop_reps} of {reps} replicates, ×{scale:g}"
    rng = np.random.default_rng(2)

    def scipy_loop() -> None:
        for c in cs:
            for _ in range(loop_reps):
                scipy_er(n, c / (n - 1), rng)

    def igraph_loop() -> None:
        for c in cs:
            for _ in range(loop_reps):
                igraph_er(n, c / (n - 1))

    rows.append(Row(name, "numpy+scipy loop", scale * best_of(scipy_loop, 1), note))
    rows.append(Row(name, "igraph loop", scale * best_of(igraph_loop, 1), note))
    nz_reps = reps if full else 4
    t = best_of(lambda: [python_newman_ziff(n, cs, rng) for _ in range(nz_reps)], 1)
    rows.append(
        Row(
            name,
            "plain numpy Newman–Ziff",
            t * reps / nz_reps,
            "" if full else f"{nz_reps} of {reps} replicates, ×{reps / nz_reps:g}",
        )
    )
    return rows


def task_threads(repeat: int) -> list[Row]:
    n, p, reps = 10**6, 2.0 / (10**6 - 1), 8
    name = "threads: 8× ER n=1e6"
    states = stream_states(1, 0, reps)
    gnp_batch_prange(100, 0.01, states[:2].copy())
    return [
        Row(
            name, "serial", best_of(lambda: sample_graph(n=n, p=p, replicates=reps, seed=1), repeat)
        ),
        Row(
            name,
            "2 threads (replicates)",
            best_of(lambda: sample_graph(n=n, p=p, replicates=reps, seed=1, max_workers=2), repeat),
        ),
        Row(
            name,
            "parallel=True prange",
            best_of(lambda: gnp_batch_prange(n, p, states.copy()), repeat),
        ),
    ]


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forked parent across exec
_RSS = (
    "import time; from services.simulation.graphs import sample_graph; "
    "from services.simulation.limits import Limits; t = time.perf_counter(); {run}"
    "print(time.perf_counter() - t, "
    "[ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0])"
)


def peak_rss_mib(run: bool, n: int = 10**7, threads: int = 1) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of a fresh interpreter that imports the engine (and samples
    one ER realization at n, c = 2 on ``threads`` threads)."""
    call = (
        f"sample_graph(n={n}, c=2.0, seed=1, max_workers={threads}, "
        f"limits=Limits(max_nodes={max(n, 2)})); "
    )
    code = _RSS.format(run=call if run else "")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    secs, kib = out.stdout.split()[-2:]
    return float(secs), int(kib) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run every peer at full size")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--big", action="store_true", help="also ER n=1e8 (time, peak RSS)")
    args = parser.parse_args()
    rows = task_realization(args.full, args.repeat)
    rows += task_sweep(args.full, args.repeat)
    rows += task_threads(args.repeat)
    print(f"{'task':24} {'implementation':26} {'seconds':>10} {'× ours':>9}  note")
    ours: dict[str, float] = {}
    for row in rows:
        ours.setdefault(row.task, row.seconds)
        ratio = row.seconds / ours[row.task]
        print(f"{row.task:24} {row.who:26} {row.seconds:10.4f} {ratio:9.1f}  {row.note}")
    _, base = peak_rss_mib(run=False)
    _, peak = peak_rss_mib(run=True)
    print(
        f"\n3. peak RSS, ER n=1e7 c=2: {peak:.0f} MiB (imports alone {base:.0f} MiB; target < 512)"
    )
    if args.big:  # as served: one replicate's pair space over 2 threads
        secs, peak = peak_rss_mib(run=True, n=10**8, threads=2)
        print(
            f"4. ER n=1e8 c=2, 2 threads: {secs:.1f} s (target < 20), peak RSS {peak:.0f} MiB "
            "(target < 1024)"
        )
    # The service runs replicates on one thread per core, so its sweep is the 2-thread row.
    t = {(row.task[:2], row.who): row.seconds for row in rows}
    checks = [
        (
            "1. ER: numpy+scipy / ours (1 thread)",
            t[("1.", "numpy+scipy")] / t[("1.", "zuhur sample_graph")],
            10,
        ),
        (
            "1. ER: numpy+scipy / ours (2 threads, as served)",
            t[("1.", "numpy+scipy")] / t[("1.", "zuhur sample_graph, 2 thr")],
            10,
        ),
        (
            "2. sweep: numpy+scipy loop / ours (2 threads, as served)",
            t[("2.", "numpy+scipy loop")] / t[("2.", "zuhur sweep, 2 threads")],
            250,
        ),
        (
            "2. sweep: plain-numpy Newman–Ziff / ours (2 threads)",
            t[("2.", "plain numpy Newman–Ziff")] / t[("2.", "zuhur sweep, 2 threads")],
            15,
        ),
    ]
    for name, ratio, target in checks:
        verdict = "ok" if ratio >= target else "BELOW TARGET"
        print(f"{name:58} {ratio:7.1f}×  (target ≥ {target}×) {verdict}")


if __name__ == "__main__":
    main()
