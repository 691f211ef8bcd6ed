"""Newman–Ziff passes: occupy a substrate's items in random order, convolve to each p.

One pass per replicate (Newman & Ziff 2001): items (edges, bonds or sites) are occupied
one at a time in a uniformly random order (lazy Fisher–Yates), merged with a weighted
union–find, and after every occupation m the cluster observables are folded into the
canonical average of every grid point whose binomial window covers m:

    <Q>(q) = Σ_m  C(M, m) q^m (1-q)^(M-m) · Q_m.

Weights start at the window's low end from log-space values relative to the mode
(math.lgamma, so they never under- or overflow) and follow the ratio recurrence
w(m+1) = w(m)·(M-m)/(m+1)·q/(1-q); each window spans mean ± (10 sd + 10), which leaves
out less than 1e-20 of the mass, and is normalized by its own weight sum. The pass stops
at the last window's end. Cost O(n + m_stop·α(n) + Σ window widths) per replicate.

Kernels return float64[R, P, N_MOMENTS]: per replicate and grid point the canonical
means of Q and Q² for each observable (columns ``MOMENTS``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from services.simulation.kernels.direct import configuration_stubs, gnp_edges, lazy_swap, stub_edge
from services.simulation.kernels.rng import next_below
from services.simulation.kernels.unionfind import find, new_forest, union_roots

MOMENTS = (
    "largest",  # S = largest / N
    "largest_sq",
    "second",  # second largest / N
    "second_sq",
    "susceptibility",  # mean finite-cluster size Σ' s² / Σ' s (largest excluded)
    "susceptibility_sq",
    "clusters",  # clusters per node
    "clusters_sq",
    "wrapping",  # lattices: a cluster wraps the torus (0/1; its square is itself)
)
N_MOMENTS = len(MOMENTS)
_WEIGHT = N_MOMENTS  # accumulator column of the weight sum
_NEVER = np.iinfo(np.int64).max

# obs: int64[6] cluster statistics kept up to date by every merge
_LARGEST, _SECOND, _CLUSTERS, _SUMSQ, _OCCUPIED, _WRAP_AT = 0, 1, 2, 3, 4, 5


# --------------------------------------------------------------------------- clusters


@njit(cache=True, nogil=True)
def new_stats(N: int, occupied: int) -> tuple[np.ndarray, np.ndarray]:
    """(size histogram int32[N+2], obs int64[6]) for ``occupied`` singletons among N nodes."""
    cnt = np.zeros(N + 2, dtype=np.int32)
    cnt[1] = occupied
    obs = np.zeros(6, dtype=np.int64)
    obs[_LARGEST] = 1 if occupied >= 1 else 0
    obs[_SECOND] = 1 if occupied >= 2 else 0
    obs[_CLUSTERS] = occupied
    obs[_SUMSQ] = occupied
    obs[_OCCUPIED] = occupied
    obs[_WRAP_AT] = _NEVER
    return cnt, obs


@njit(cache=True, nogil=True)
def _present(cnt: np.ndarray, size: int, top: int) -> bool:
    """Whether a cluster of ``size`` exists besides (one instance of) the largest."""
    return size > 0 and cnt[size] - (1 if size == top else 0) > 0


@njit(cache=True, nogil=True)
def _refresh_second(cnt: np.ndarray, obs: np.ndarray, old_l: int, old_s: int, new: int) -> None:
    """Second-largest size after a change that created a cluster of size ``new``.

    The candidates are the old largest, the new cluster and the old second; only when
    the old second vanished is the histogram scanned downward from it (short in practice:
    the second-largest cluster is small away from the threshold).
    """
    top = obs[_LARGEST]
    best = 0
    if _present(cnt, old_l, top):
        best = old_l
    if new > best and _present(cnt, new, top):
        best = new
    if old_s > best and _present(cnt, old_s, top):
        best = old_s
    if best < old_s:
        t = old_s - 1
        while t > best and cnt[t] <= 0:
            t -= 1
        best = t
    obs[_SECOND] = best


@njit(cache=True, nogil=True)
def merged(cnt: np.ndarray, obs: np.ndarray, a: int, b: int) -> None:
    """Record that clusters of sizes a and b merged. O(1) amortized."""
    s = a + b
    cnt[a] -= 1
    cnt[b] -= 1
    cnt[s] += 1
    old_l = obs[_LARGEST]
    old_s = obs[_SECOND]
    if s > old_l:
        obs[_LARGEST] = s
    obs[_CLUSTERS] -= 1
    obs[_SUMSQ] += 2 * a * b
    _refresh_second(cnt, obs, old_l, old_s, s)


@njit(cache=True, nogil=True)
def added_site(cnt: np.ndarray, obs: np.ndarray) -> None:
    """Record a newly occupied, still isolated site."""
    cnt[1] += 1
    old_l = obs[_LARGEST]
    old_s = obs[_SECOND]
    if old_l < 1:
        obs[_LARGEST] = 1
    obs[_CLUSTERS] += 1
    obs[_SUMSQ] += 1
    obs[_OCCUPIED] += 1
    _refresh_second(cnt, obs, old_l, old_s, 1)


@njit(cache=True, nogil=True)
def link_counted(ptr: np.ndarray, cnt: np.ndarray, obs: np.ndarray, a: int, b: int) -> None:
    """Add edge (a, b) to the forest and to the cluster statistics."""
    ra = find(ptr, a)
    rb = find(ptr, b)
    if ra != rb:
        merged(cnt, obs, -ptr[ra], -ptr[rb])
        union_roots(ptr, ra, rb)


# ------------------------------------------------------------- wrapping (lattice torus)


@njit(cache=True, nogil=True)
def find_disp(ptr: np.ndarray, dx: np.ndarray, dy: np.ndarray, i: int) -> tuple[int, int, int]:
    """Root of i and the lattice displacement pos(i) - pos(root), halving the path.

    ``dx[i], dy[i]`` hold pos(i) - pos(parent(i)) in unwrapped coordinates
    (Newman & Ziff 2001, wrapping detection).
    """
    tx = 0
    ty = 0
    while ptr[i] >= 0:
        parent = ptr[i]
        if ptr[parent] >= 0:
            dx[i] += dx[parent]
            dy[i] += dy[parent]
            ptr[i] = ptr[parent]
        tx += dx[i]
        ty += dy[i]
        i = ptr[i]
    return i, tx, ty


@njit(cache=True, nogil=True)
def link_wrapping(
    ptr: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    cnt: np.ndarray,
    obs: np.ndarray,
    a: int,
    b: int,
    ex: int,
    ey: int,
    m: int,
) -> None:
    """Join a and b = a + (ex, ey); a bond closing a loop that winds the torus marks the
    occupation ``m`` at which a wrapping cluster first appeared."""
    ra, ax, ay = find_disp(ptr, dx, dy, a)
    rb, bx, by = find_disp(ptr, dx, dy, b)
    # pos(rb) - pos(ra) if b sits at pos(a) + e
    ox = ax + ex - bx
    oy = ay + ey - by
    if ra == rb:
        if (ox != 0 or oy != 0) and obs[_WRAP_AT] == _NEVER:
            obs[_WRAP_AT] = m
        return
    merged(cnt, obs, -ptr[ra], -ptr[rb])
    if ptr[ra] <= ptr[rb]:  # ra is the larger: hang rb below it
        ptr[ra] += ptr[rb]
        ptr[rb] = ra
        dx[rb] = ox
        dy[rb] = oy
    else:
        ptr[rb] += ptr[ra]
        ptr[ra] = rb
        dx[ra] = -ox
        dy[ra] = -oy


# ------------------------------------------------------------------ canonical windows


@njit(cache=True, nogil=True)
def _log_pmf(M: int, q: float, m: int) -> float:
    return (
        math.lgamma(M + 1.0)
        - math.lgamma(m + 1.0)
        - math.lgamma(M - m + 1.0)
        + m * math.log(q)
        + (M - m) * math.log1p(-q)
    )


@njit(cache=True, nogil=True)
def binomial_windows(M: int, qs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per q: (lo, hi, starting weight) of Binomial(M, q) over mean ± (10 sd + 10).

    The starting weight is pmf(lo)/pmf(mode), computed in log space, so it lies in
    (e^-250, 1] and the recurrence never under- or overflows.
    """
    P = qs.shape[0]
    lo = np.empty(P, dtype=np.int64)
    hi = np.empty(P, dtype=np.int64)
    w0 = np.ones(P, dtype=np.float64)
    for j in range(P):
        q = qs[j]
        if q <= 0.0:
            lo[j] = 0
            hi[j] = 0
        elif q >= 1.0:
            lo[j] = M
            hi[j] = M
        else:
            mean = M * q
            half = 10.0 * math.sqrt(mean * (1.0 - q)) + 10.0
            lo[j] = max(0, math.floor(mean - half))
            hi[j] = min(M, math.ceil(mean + half))
            mode = min(M, math.floor((M + 1) * q))
            w0[j] = math.exp(_log_pmf(M, q, lo[j]) - _log_pmf(M, q, mode))
    return lo, hi, w0


@njit(cache=True, nogil=True)
def delta_windows(ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Microcanonical points: all weight on exactly m = ms[j]."""
    return ms.copy(), ms.copy(), np.ones(ms.shape[0], dtype=np.float64)


@njit(cache=True, nogil=True)
def open_windows(
    lo: np.ndarray, hi: np.ndarray, w0: np.ndarray, qs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window cursor state for ``record`` from m = 0: current weights w, odds q/(1-q),
    order (windows by lo), active (open windows), ctl = (number open, next to open)."""
    P = lo.shape[0]
    odds = np.zeros(P, dtype=np.float64)
    for j in range(P):
        if 0.0 < qs[j] < 1.0:
            odds[j] = qs[j] / (1.0 - qs[j])
    order = np.argsort(lo, kind="mergesort")
    return w0.copy(), odds, order, np.empty(P, np.int64), np.zeros(2, np.int64)


@njit(cache=True, nogil=True)
def record(
    m: int,
    M: int,
    N: int,
    obs: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    w: np.ndarray,
    odds: np.ndarray,
    order: np.ndarray,
    active: np.ndarray,
    ctl: np.ndarray,
    acc: np.ndarray,
) -> None:
    """Fold the state after m occupations into every grid point whose window covers m."""
    P = lo.shape[0]
    while ctl[1] < P and lo[order[ctl[1]]] == m:
        active[ctl[0]] = order[ctl[1]]
        ctl[0] += 1
        ctl[1] += 1
    if ctl[0] == 0:
        return
    largest = obs[_LARGEST]
    S = largest / N
    S2 = obs[_SECOND] / N
    cpn = obs[_CLUSTERS] / N
    rest = obs[_OCCUPIED] - largest
    chi = (obs[_SUMSQ] - largest * largest) / rest if rest > 0 else 0.0
    wrap = 1.0 if m >= obs[_WRAP_AT] else 0.0
    k = 0
    while k < ctl[0]:
        j = active[k]
        wj = w[j]
        row = acc[j]
        row[0] += wj * S
        row[1] += wj * S * S
        row[2] += wj * S2
        row[3] += wj * S2 * S2
        row[4] += wj * chi
        row[5] += wj * chi * chi
        row[6] += wj * cpn
        row[7] += wj * cpn * cpn
        row[8] += wj * wrap
        row[_WEIGHT] += wj
        if m >= hi[j]:
            ctl[0] -= 1
            active[k] = active[ctl[0]]
        else:
            w[j] = wj * ((M - m) / (m + 1.0)) * odds[j]
            k += 1


@njit(cache=True, nogil=True)
def finish(acc: np.ndarray, out: np.ndarray) -> None:
    """Normalize each grid point's sums by its weight sum into ``out`` (P, N_MOMENTS)."""
    for j in range(acc.shape[0]):
        total = acc[j, _WEIGHT]
        for k in range(N_MOMENTS):
            out[j, k] = acc[j, k] / total if total > 0.0 else 0.0


# ------------------------------------------------------------------------ the passes


@njit(cache=True, nogil=True)
def next_below_or_zero(bound: int, s: np.ndarray) -> int:
    """Uniform in [0, bound) (0 when bound <= 1, without drawing)."""
    return next_below(s, bound) if bound > 1 else 0


@njit(cache=True, nogil=True)
def edge_pass(
    N: int,
    edges: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    w0: np.ndarray,
    qs: np.ndarray,
    s: np.ndarray,
    out: np.ndarray,
) -> None:
    """Occupy the rows of ``edges`` (int32[M, 2]) in random order on N nodes; fill out[P, K]."""
    M = edges.shape[0]
    ptr = new_forest(N)
    cnt, obs = new_stats(N, N)
    w, odds, order, active, ctl = open_windows(lo, hi, w0, qs)
    acc = np.zeros((lo.shape[0], N_MOMENTS + 1), dtype=np.float64)
    stop = hi.max() if hi.shape[0] > 0 else 0
    record(0, M, N, obs, lo, hi, w, odds, order, active, ctl, acc)
    for m in range(1, stop + 1):
        k = m - 1 + next_below_or_zero(M - m + 1, s)
        a = edges[k, 0]
        b = edges[k, 1]
        edges[k, 0] = edges[m - 1, 0]
        edges[k, 1] = edges[m - 1, 1]
        edges[m - 1, 0] = a
        edges[m - 1, 1] = b
        link_counted(ptr, cnt, obs, a, b)
        record(m, M, N, obs, lo, hi, w, odds, order, active, ctl, acc)
    finish(acc, out)


@njit(cache=True, nogil=True)
def er_sweep_batch(n: int, cs: np.ndarray, states: np.ndarray) -> np.ndarray:
    """G(n, p) at each mean degree cs[j] (p = c/(n-1)), exactly.

    The substrate is G(n, p_max) at the largest grid value (geometric skipping); keeping
    each of its M edges with probability q = p/p_max gives G(n, p), and a uniform order
    of its edges makes the first m a uniform m-subset, so the Binomial(M, q) convolution
    of the pass is the exact G(n, p) average given the substrate.
    """
    P = cs.shape[0]
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    c_max = cs.max() if P > 0 else 0.0
    qs = np.ones(P, dtype=np.float64)
    if c_max > 0.0:
        qs = cs / c_max
    p_max = min(1.0, c_max / (n - 1))
    for r in range(states.shape[0]):
        s = states[r]
        edges = gnp_edges(n, p_max, s)
        lo, hi, w0 = binomial_windows(edges.shape[0], qs)
        edge_pass(n, edges, lo, hi, w0, qs, s, out[r])
    return out


@njit(cache=True, nogil=True)
def gnm_sweep_batch(n: int, ms: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Uniform G(n, m) at each edge count ms[j] (microcanonical: no convolution).

    The substrate is a G(n, p') with at least max(ms) edges (redrawn until it has), whose
    first m edges in a uniform order are a uniform m-subset of all pairs.
    """
    P = ms.shape[0]
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    m_max = ms.max() if P > 0 else 0
    pairs = n * (n - 1.0) / 2.0
    p = min(1.0, (m_max + 10.0 * math.sqrt(m_max) + 20.0) / pairs)
    qs = np.full(P, 0.5)  # unused by delta windows (odds only matter inside wide windows)
    for r in range(states.shape[0]):
        s = states[r]
        edges = gnp_edges(n, p, s)
        while edges.shape[0] < m_max:
            edges = gnp_edges(n, p, s)
        lo, hi, w0 = delta_windows(ms)
        edge_pass(n, edges, lo, hi, w0, qs, s, out[r])
    return out


@njit(cache=True, nogil=True)
def configuration_sweep_batch(
    n: int, ks: np.ndarray, cdf: np.ndarray, phis: np.ndarray, states: np.ndarray
) -> np.ndarray:
    """Bond percolation with occupation phis[j] on a configuration-model multigraph."""
    P = phis.shape[0]
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    for r in range(states.shape[0]):
        s = states[r]
        stubs = configuration_stubs(n, ks, cdf, s)
        M = stubs.shape[0] // 2
        lo, hi, w0 = binomial_windows(M, phis)
        ptr = new_forest(n)
        cnt, obs = new_stats(n, n)
        w, odds, order, active, ctl = open_windows(lo, hi, w0, phis)
        acc = np.zeros((P, N_MOMENTS + 1), dtype=np.float64)
        stop = hi.max() if P > 0 else 0
        record(0, M, n, obs, lo, hi, w, odds, order, active, ctl, acc)
        for m in range(1, stop + 1):
            a, b = stub_edge(stubs, m - 1, s)
            link_counted(ptr, cnt, obs, a, b)
            record(m, M, n, obs, lo, hi, w, odds, order, active, ctl, acc)
        finish(acc, out[r])
    return out


@njit(cache=True, nogil=True)
def _torus_step(L: int, i: int, direction: int) -> tuple[int, int, int]:
    """Neighbour of site i on the L×L torus: (site, ex, ey) for direction 0..3 (+x, -x, +y, -y)."""
    x = i % L
    y = i // L
    if direction == 0:
        return y * L + (x + 1) % L, 1, 0
    if direction == 1:
        return y * L + (x - 1 + L) % L, -1, 0
    if direction == 2:
        return ((y + 1) % L) * L + x, 0, 1
    return ((y - 1 + L) % L) * L + x, 0, -1


@njit(cache=True, nogil=True)
def lattice_bond_sweep_batch(L: int, ps: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Bond percolation on the L×L torus at each ps[j], with wrapping detection."""
    P = ps.shape[0]
    N = L * L
    M = 2 * N
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    for r in range(states.shape[0]):
        s = states[r]
        bonds = np.arange(M).astype(np.int32)
        lo, hi, w0 = binomial_windows(M, ps)
        ptr = new_forest(N)
        dx = np.zeros(N, dtype=np.int32)
        dy = np.zeros(N, dtype=np.int32)
        cnt, obs = new_stats(N, N)
        w, odds, order, active, ctl = open_windows(lo, hi, w0, ps)
        acc = np.zeros((P, N_MOMENTS + 1), dtype=np.float64)
        stop = hi.max() if P > 0 else 0
        record(0, M, N, obs, lo, hi, w, odds, order, active, ctl, acc)
        for m in range(1, stop + 1):
            lazy_swap(bonds, m - 1, s)
            b = bonds[m - 1]
            a = b % N
            c, ex, ey = _torus_step(L, a, 0 if b < N else 2)
            link_wrapping(ptr, dx, dy, cnt, obs, a, c, ex, ey, m)
            record(m, M, N, obs, lo, hi, w, odds, order, active, ctl, acc)
        finish(acc, out[r])
    return out


@njit(cache=True, nogil=True)
def lattice_site_sweep_batch(L: int, ps: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Site percolation on the L×L torus at each ps[j], with wrapping detection."""
    P = ps.shape[0]
    N = L * L
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    for r in range(states.shape[0]):
        s = states[r]
        sites = np.arange(N).astype(np.int32)
        occupied = np.zeros(N, dtype=np.bool_)
        lo, hi, w0 = binomial_windows(N, ps)
        ptr = new_forest(N)
        dx = np.zeros(N, dtype=np.int32)
        dy = np.zeros(N, dtype=np.int32)
        cnt, obs = new_stats(N, 0)
        w, odds, order, active, ctl = open_windows(lo, hi, w0, ps)
        acc = np.zeros((P, N_MOMENTS + 1), dtype=np.float64)
        stop = hi.max() if P > 0 else 0
        record(0, N, N, obs, lo, hi, w, odds, order, active, ctl, acc)
        for m in range(1, stop + 1):
            lazy_swap(sites, m - 1, s)
            i = sites[m - 1]
            occupied[i] = True
            added_site(cnt, obs)
            for d in range(4):
                j, ex, ey = _torus_step(L, i, d)
                if occupied[j]:
                    link_wrapping(ptr, dx, dy, cnt, obs, i, j, ex, ey, m)
            record(m, N, N, obs, lo, hi, w, odds, order, active, ctl, acc)
        finish(acc, out[r])
    return out
