"""Newman–Ziff passes: occupy a substrate's items in random order, convolve to each p.

One pass per replicate (Newman & Ziff 2001): items (edges, bonds or sites) are occupied
one at a time in a uniformly random order (lazy Fisher–Yates), merged with a weighted
union–find, and after every occupation m the cluster observables are folded into the
canonical average of every grid point whose window covers m:

    <Q>(q) = Σ_m  C(M, m) q^m (1-q)^(M-m) · Q_m         (binomial: M items, each kept w.p. q)
    <Q>(λ) = Σ_k  e^-λ λ^k / k! · Q_k                    (Poisson: G(n, p) by random pairs)

Weights start at the window's low end from log-space values relative to the mode
(math.lgamma, so they never under- or overflow) and follow the ratio recurrence
w(m+1) = w(m)·(A - B·m)/(m+1) (binomial: A = M·q/(1-q), B = q/(1-q); Poisson: A = λ,
B = 0); each window spans mean ± (10 sd + 10), which leaves out less than 1e-20 of the
mass, and is normalized by its own weight sum. The weights depend on the grid (and M)
only, so they are laid out once (``window_weights``) and shared by every replicate of a
sweep; a pass keeps its cluster statistics in scalars, buffers five raw observables per
occupation and folds each block of them into the windows with vectorized sums. The pass
stops at the last window's end. Cost O(n + m_stop·α(n) + Σ window widths) per replicate.
The per-occupation helpers are inlined at numba level (``inline="always"``): as real
calls, their exploded array arguments cost more than their bodies.

Kernels return float64[R, P, N_MOMENTS]: per replicate and grid point the canonical
means of Q and Q² for each observable (columns ``MOMENTS``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from services.common.control import CANCEL
from services.simulation.kernels.direct import (
    PAIRS_AHEAD,
    configuration_stubs,
    gnp_edges,
    lazy_swap,
    stub_edge,
)
from services.simulation.kernels.meter import at_step, end_replicate, start_replicate
from services.simulation.kernels.prefetch import prefetch
from services.simulation.kernels.rng import next_below, pair_below
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


@njit(cache=True, nogil=True, inline="always")
def _present(cnt: np.ndarray, size: int, top: int) -> bool:
    """Whether a cluster of ``size`` exists besides (one instance of) the largest."""
    return size > 0 and cnt[size] - (1 if size == top else 0) > 0


@njit(cache=True, nogil=True, inline="always")
def _second_after(cnt: np.ndarray, top: int, old_l: int, old_s: int, new: int) -> int:
    """Second-largest size after a change that created a cluster of size ``new``.

    The candidates are the old largest, the new cluster and the old second; only when
    the old second vanished is the histogram scanned downward from it (short in practice:
    the second-largest cluster is small away from the threshold).
    """
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
    return best


@njit(cache=True, nogil=True, inline="always")
def merge_sizes(cnt: np.ndarray, a: int, b: int, largest: int, second: int) -> tuple[int, int]:
    """(largest, second) after clusters of sizes a and b merged; updates the histogram.

    O(1) amortized. Fast paths: when the smaller piece is below the second-largest size,
    the two largest clusters other than the pieces are untouched, so the new cluster
    either becomes the largest (the old largest, or the grown largest, keeps its place) or
    the second. Scalars in and out, so a pass keeps them in registers.
    """
    if a < b:
        a, b = b, a
    s = a + b
    cnt[a] -= 1
    cnt[b] -= 1
    cnt[s] += 1
    if b < second:
        if a == largest:  # the largest grew; the second (a different cluster) stays
            return s, second
        if a < second:  # neither piece was among the two largest
            if s > largest:
                return s, largest
            if s > second:
                return largest, s
            return largest, second
    top = s if s > largest else largest
    return top, _second_after(cnt, top, largest, second, s)


@njit(cache=True, nogil=True, inline="always")
def merged(cnt: np.ndarray, obs: np.ndarray, a: int, b: int) -> None:
    """Record in ``obs`` that clusters of sizes a and b merged (see ``merge_sizes``)."""
    obs[_LARGEST], obs[_SECOND] = merge_sizes(cnt, a, b, obs[_LARGEST], obs[_SECOND])
    obs[_CLUSTERS] -= 1
    obs[_SUMSQ] += 2 * a * b


@njit(cache=True, nogil=True, inline="always")
def added_site(cnt: np.ndarray, obs: np.ndarray) -> None:
    """Record a newly occupied, still isolated site."""
    cnt[1] += 1
    old_l = obs[_LARGEST]
    top = old_l if old_l >= 1 else 1
    obs[_LARGEST] = top
    obs[_CLUSTERS] += 1
    obs[_SUMSQ] += 1
    obs[_OCCUPIED] += 1
    obs[_SECOND] = _second_after(cnt, top, old_l, obs[_SECOND], 1)


@njit(cache=True, nogil=True, inline="always")
def link_sizes(
    ptr: np.ndarray, cnt: np.ndarray, u: int, v: int, largest: int, second: int
) -> tuple[np.int64 | int, int, int]:
    """Add edge (u, v) to the forest: (a·b, largest, second) after it, where a·b is the
    product of the two merged sizes (0 when u and v were already joined)."""
    ru = find(ptr, u)
    rv = find(ptr, v)
    if ru == rv:
        return 0, largest, second
    a = -np.int64(ptr[ru])
    b = -np.int64(ptr[rv])
    union_roots(ptr, ru, rv)  # before the histogram: its stores would make ptr reload
    largest, second = merge_sizes(cnt, a, b, largest, second)
    return a * b, largest, second


@njit(cache=True, nogil=True, inline="always")
def link_counted(ptr: np.ndarray, cnt: np.ndarray, obs: np.ndarray, a: int, b: int) -> None:
    """Add edge (a, b) to the forest and to the cluster statistics ``obs``."""
    ab, obs[_LARGEST], obs[_SECOND] = link_sizes(ptr, cnt, a, b, obs[_LARGEST], obs[_SECOND])
    if ab > 0:
        obs[_CLUSTERS] -= 1
        obs[_SUMSQ] += 2 * ab


# ------------------------------------------------------------- wrapping (lattice torus)


@njit(cache=True, nogil=True, inline="always")
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


@njit(cache=True, nogil=True, inline="always")
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
    merged(cnt, obs, -np.int64(ptr[ra]), -np.int64(ptr[rb]))
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
def _log_binom_pmf(M: int, q: float, m: int) -> float:
    return (
        math.lgamma(M + 1.0)
        - math.lgamma(m + 1.0)
        - math.lgamma(M - m + 1.0)
        + m * math.log(q)
        + (M - m) * math.log1p(-q)
    )


@njit(cache=True, nogil=True)
def _log_poisson_pmf(lam: float, k: int) -> float:
    return k * math.log(lam) - lam - math.lgamma(k + 1.0)


@njit(cache=True, nogil=True)
def _span(mean: float, var: float, top: int) -> tuple[int, int]:
    """[mean - (10 sd + 10), mean + (10 sd + 10)] in whole numbers, clipped to [0, top]."""
    half = 10.0 * math.sqrt(var) + 10.0
    return max(0, math.floor(mean - half)), min(top, math.ceil(mean + half))


@njit(cache=True, nogil=True)
def binomial_windows(
    M: int, qs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Windows (lo, hi, w0, A, B) of Binomial(M, q) for each q in qs.

    w0 = pmf(lo)/pmf(mode), computed in log space, so it lies in (e^-250, 1] and the
    recurrence never under- or overflows.
    """
    P = qs.shape[0]
    lo = np.empty(P, dtype=np.int64)
    hi = np.empty(P, dtype=np.int64)
    w0 = np.ones(P, dtype=np.float64)
    A = np.zeros(P, dtype=np.float64)
    B = np.zeros(P, dtype=np.float64)
    for j in range(P):
        q = qs[j]
        if q <= 0.0:
            lo[j] = 0
            hi[j] = 0
        elif q >= 1.0:
            lo[j] = M
            hi[j] = M
        else:
            lo[j], hi[j] = _span(M * q, M * q * (1.0 - q), M)
            mode = min(M, math.floor((M + 1) * q))
            w0[j] = math.exp(_log_binom_pmf(M, q, lo[j]) - _log_binom_pmf(M, q, mode))
            B[j] = q / (1.0 - q)
            A[j] = M * B[j]
    return lo, hi, w0, A, B


@njit(cache=True, nogil=True)
def poisson_windows(
    lams: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Windows (lo, hi, w0, A, B) of Poisson(λ) for each λ in lams (see binomial_windows)."""
    P = lams.shape[0]
    lo = np.zeros(P, dtype=np.int64)
    hi = np.zeros(P, dtype=np.int64)
    w0 = np.ones(P, dtype=np.float64)
    A = np.zeros(P, dtype=np.float64)
    B = np.zeros(P, dtype=np.float64)
    for j in range(P):
        lam = lams[j]
        if lam > 0.0:
            lo[j], hi[j] = _span(lam, lam, np.iinfo(np.int64).max // 2)
            mode = math.floor(lam)
            w0[j] = math.exp(_log_poisson_pmf(lam, lo[j]) - _log_poisson_pmf(lam, mode))
            A[j] = lam
    return lo, hi, w0, A, B


@njit(cache=True, nogil=True)
def delta_windows(
    ms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Microcanonical points: all weight on exactly m = ms[j]."""
    P = ms.shape[0]
    zeros = np.zeros(P, dtype=np.float64)
    return ms.copy(), ms.copy(), np.ones(P, dtype=np.float64), zeros, zeros.copy()


@njit(cache=True, nogil=True)
def window_weights(
    lo: np.ndarray, hi: np.ndarray, w0: np.ndarray, A: np.ndarray, B: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(off int64[P+1], W float64[off[P]]): each window's weights laid end to end.

    W[off[j] + m - lo[j]] is the weight of occupation m at grid point j, from the ratio
    recurrence and normalized by the window's own sum. Depends on the grid only, so a
    sweep computes it once and every replicate reuses it. O(Σ window widths).
    """
    P = lo.shape[0]
    off = np.zeros(P + 1, dtype=np.int64)
    for j in range(P):
        off[j + 1] = off[j] + hi[j] - lo[j] + 1
    W = np.empty(off[P], dtype=np.float64)
    for j in range(P):
        a = A[j]
        b = B[j]
        w = w0[j]
        total = 0.0
        base = off[j] - lo[j]
        for m in range(lo[j], hi[j] + 1):
            W[base + m] = w
            total += w
            w *= (a - b * m) / (m + 1.0)
        for i in range(off[j], off[j + 1]):
            W[i] /= total
    return off, W


@njit(cache=True, nogil=True)
def poisson_weights(lams: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, off, W) of Poisson(λ) for each λ in lams (see ``window_weights``)."""
    lo, hi, w0, A, B = poisson_windows(lams)
    off, W = window_weights(lo, hi, w0, A, B)
    return lo, hi, off, W


@njit(cache=True, nogil=True)
def binomial_weights(
    M: int, qs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, off, W) of Binomial(M, q) for each q in qs (see ``window_weights``)."""
    lo, hi, w0, A, B = binomial_windows(M, qs)
    off, W = window_weights(lo, hi, w0, A, B)
    return lo, hi, off, W


@njit(cache=True, nogil=True)
def delta_weights(ms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, off, W) of the microcanonical points ms (all weight on m = ms[j])."""
    lo, hi, w0, A, B = delta_windows(ms)
    off, W = window_weights(lo, hi, w0, A, B)
    return lo, hi, off, W


@njit(cache=True, nogil=True)
def er_lambdas(n: int, cs: np.ndarray) -> np.ndarray:
    """Poisson means λ = -n²/2·log(1-p) of the random pairs drawn for G(n, p) at mean
    degrees cs, p = c/(n-1) (p = 1 taken as 1 - 2^-53)."""
    P = cs.shape[0]
    lams = np.empty(P, dtype=np.float64)
    for j in range(P):
        p = min(cs[j] / (n - 1), 1.0 - 2.0**-53)
        lams[j] = -0.5 * float(n) * float(n) * math.log1p(-p)
    return lams


@njit(cache=True, nogil=True)
def er_weights(n: int, cs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, off, W) of the G(n, p) sweep at mean degrees cs: Poisson(λ) in the number of
    random pairs drawn (``er_lambdas``)."""
    return poisson_weights(er_lambdas(n, cs))


# Tally state of one pass: acc float64[P, K] weighted sums of the moments; buf
# float64[5, BLOCK] the raw observables (largest, second, susceptibility, clusters,
# wrapping; one row each) of the current block of occupations; cur int64[2] = (columns
# filled, m of column 0).
BLOCK = 512
_RAW = 5
# flush may reorder its floating-point sums (so that LLVM vectorizes them over m): the
# result is the same for a given build whatever the thread or batch, not bit-for-bit the
# left-to-right sum; it touches no integer bookkeeping.
_SUMS = {"reassoc", "contract"}


@njit(cache=True, nogil=True)
def open_tally(P: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tally state (acc, buf, cur) for a pass over P windows, from m = 0."""
    acc = np.zeros((P, N_MOMENTS), dtype=np.float64)
    return acc, np.empty((_RAW, BLOCK), dtype=np.float64), np.zeros(2, np.int64)


@njit(cache=True, nogil=True, fastmath=_SUMS)
def flush(
    lo: np.ndarray,
    hi: np.ndarray,
    off: np.ndarray,
    W: np.ndarray,
    acc: np.ndarray,
    buf: np.ndarray,
    cur: np.ndarray,
) -> None:
    """Fold the buffered block into every window that overlaps it.

    Per window and observable one contiguous multiply-add reduction over its part of the
    block (weights and values as slices), which the compiler vectorizes: ~3× the nine
    interleaved sums of one loop. Empties the buffer.
    """
    count = cur[0]
    start = cur[1]
    end = start + count - 1
    for j in range(lo.shape[0]):
        first = max(lo[j], start)
        last = min(hi[j], end)
        if first > last:
            continue
        a = first - start
        b = last - start + 1
        base = off[j] - lo[j] + start
        w = W[base + a : base + b]
        for k in range(_RAW - 1):
            x = buf[k, a:b]
            s = 0.0
            q = 0.0
            for i in range(b - a):
                y = w[i] * x[i]
                s += y
                q += y * x[i]
            acc[j, 2 * k] += s
            acc[j, 2 * k + 1] += q
        x = buf[_RAW - 1, a:b]  # wrapping: 0/1, its square is itself
        s = 0.0
        for i in range(b - a):
            s += w[i] * x[i]
        acc[j, 2 * (_RAW - 1)] += s
    cur[0] = 0
    cur[1] = end + 1


@njit(cache=True, nogil=True, inline="always")
def susceptibility(largest: int, sumsq: int, occupied: int) -> float:
    """Mean finite-cluster size Σ' s² / Σ' s over the clusters other than the largest."""
    rest = occupied - largest
    return (sumsq - largest * largest) / rest if rest > 0 else 0.0


@njit(cache=True, nogil=True, inline="always")
def buffer_row(
    buf: np.ndarray,
    i: int,
    largest: int,
    second: int,
    chi: float,
    clusters: int,
    wrapping: float,
) -> None:
    """Store the raw observables of one occupation in column i of the buffer."""
    buf[0, i] = largest
    buf[1, i] = second
    buf[2, i] = chi
    buf[3, i] = clusters
    buf[4, i] = wrapping


@njit(cache=True, nogil=True, inline="always")
def tally(
    buf: np.ndarray,
    cur: np.ndarray,
    largest: int,
    second: int,
    chi: float,
    clusters: int,
    wrapping: float,
) -> None:
    """Buffer the raw observables after the next occupation (m = 0, 1, 2, ... in turn).

    A few stores, inlined into the pass loop; the caller folds a full buffer with
    ``flush`` (kept out of this function so that the per-occupation path stays short).
    """
    i = cur[0]
    buffer_row(buf, i, largest, second, chi, clusters, wrapping)
    cur[0] = i + 1


@njit(cache=True, nogil=True, inline="always")
def tally_obs(m: int, obs: np.ndarray, buf: np.ndarray, cur: np.ndarray) -> None:
    """``tally`` of the statistics kept in ``obs`` after m occupations."""
    largest = obs[_LARGEST]
    chi = susceptibility(largest, obs[_SUMSQ], obs[_OCCUPIED])
    wrap = 1.0 if m >= obs[_WRAP_AT] else 0.0
    tally(buf, cur, largest, obs[_SECOND], chi, obs[_CLUSTERS], wrap)


@njit(cache=True, nogil=True)
def finish(
    N: int,
    lo: np.ndarray,
    hi: np.ndarray,
    off: np.ndarray,
    W: np.ndarray,
    acc: np.ndarray,
    buf: np.ndarray,
    cur: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fold the last partial block, then scale the counts to fractions of the N nodes
    into ``out`` (P, K)."""
    flush(lo, hi, off, W, acc, buf, cur)
    inv = 1.0 / N
    for j in range(out.shape[0]):
        for k in (0, 2, 6):
            out[j, k] = acc[j, k] * inv
            out[j, k + 1] = acc[j, k + 1] * inv * inv
        out[j, 4] = acc[j, 4]
        out[j, 5] = acc[j, 5]
        out[j, 8] = acc[j, 8]


# ------------------------------------------------------------------------ the passes


@njit(cache=True, nogil=True)
def _random_index(bound: int, s: np.ndarray) -> np.int64 | int:
    """Uniform in [0, bound) as int64 (0 when bound <= 1, without drawing)."""
    return np.int64(next_below(s, bound)) if bound > 1 else 0


@njit(cache=True, nogil=True)
def er_sweep_weighted(
    n: int,
    lo: np.ndarray,
    hi: np.ndarray,
    off: np.ndarray,
    W: np.ndarray,
    states: np.ndarray,
    meter: np.ndarray,
) -> np.ndarray:
    """G(n, p) at each mean degree c_j (p = c/(n-1)), exactly, with no edge storage, over the
    Poisson windows (lo, hi, off, W) that ``er_weights(n, cs)`` computes once per sweep.

    Poissonization: after K ~ Poisson(λ) draws of ordered pairs (u, v) uniform on [0, n)²,
    each unordered pair u ≠ v has been drawn an independent Poisson(2λ/n²) number of
    times, so it is present independently with p = 1 - exp(-2λ/n²): exactly G(n, p) for
    λ = -n²/2·log(1-p). Self-loops and repeated pairs leave the clusters unchanged, so
    the pass draws pairs one by one and convolves with Poisson(λ_j) weights.
    O(n + λ_max·α(n)) time, 8 bytes a node; n <= 2^32. The cluster statistics live in
    scalars; the susceptibility is recomputed only when a pair merges two clusters. Pairs are
    drawn direct.PAIRS_AHEAD at a time, their forest entries prefetched, then linked in order;
    the random state stays in registers and is written back to ``states[r]`` at the end.
    """
    P = lo.shape[0]
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    stop = hi.max() if P > 0 else 0
    ahead = np.empty((PAIRS_AHEAD, 2), dtype=np.int64)
    bound = uint64(n)
    for r in range(states.shape[0]):
        s0, s1, s2, s3 = states[r, 0], states[r, 1], states[r, 2], states[r, 3]
        ptr = new_forest(n)
        cnt, obs = new_stats(n, n)
        largest = obs[_LARGEST]
        second = obs[_SECOND]
        clusters = obs[_CLUSTERS]
        sumsq = obs[_SUMSQ]
        chi = susceptibility(largest, sumsq, n)
        acc, buf, cur = open_tally(P)
        buffer_row(buf, 0, largest, second, chi, clusters, 0.0)  # m = 0
        filled = 1  # the buffer's fill, kept in a register (cur[0] only at flushes)
        if start_replicate(meter, stop):
            return out
        for first in range(0, stop, PAIRS_AHEAD):  # draw a chunk, prefetching, then link it
            chunk = min(PAIRS_AHEAD, stop - first)
            for j in range(chunk):
                u, v, s0, s1, s2, s3 = pair_below(bound, s0, s1, s2, s3)
                ahead[j, 0] = u
                ahead[j, 1] = v
                prefetch(ptr, u)
                prefetch(ptr, v)
            for j in range(chunk):
                u = ahead[j, 0]
                v = ahead[j, 1]
                if u != v:
                    ab, largest, second = link_sizes(ptr, cnt, u, v, largest, second)
                    if ab > 0:
                        clusters -= 1
                        sumsq += 2 * ab
                        chi = susceptibility(largest, sumsq, n)
                buffer_row(buf, filled, largest, second, chi, clusters, 0.0)
                filled += 1
                if filled == BLOCK:
                    cur[0] = filled
                    flush(lo, hi, off, W, acc, buf, cur)
                    filled = 0
                    if at_step(meter, first + j + 1):
                        return out  # cancelled: the caller discards the rows
        cur[0] = filled
        finish(n, lo, hi, off, W, acc, buf, cur, out[r])
        states[r, 0], states[r, 1], states[r, 2], states[r, 3] = s0, s1, s2, s3
        end_replicate(meter, r)
    return out


@njit(cache=True, nogil=True, inline="always")
def _pass_link(
    ptr: np.ndarray,
    cnt: np.ndarray,
    obs: np.ndarray,
    a: int,
    b: int,
    m: int,
    buf: np.ndarray,
    cur: np.ndarray,
) -> None:
    """One occupation of a pass without wrapping: link (a, b) and buffer the statistics."""
    link_counted(ptr, cnt, obs, a, b)
    tally_obs(m, obs, buf, cur)


@njit(cache=True, nogil=True)
def gnm_sweep_batch(n: int, ms: np.ndarray, states: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """Uniform G(n, m) at each edge count ms[j] (microcanonical: no convolution).

    The substrate is a G(n, p') with at least max(ms) edges (redrawn until it has), whose
    first m edges in a uniform (lazily shuffled) order are a uniform m-subset of all pairs.
    O(n + M') time, 8 bytes a substrate edge.
    """
    P = ms.shape[0]
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    m_max = ms.max() if P > 0 else 0
    pairs = n * (n - 1.0) / 2.0
    p = min(1.0, (m_max + 10.0 * math.sqrt(m_max) + 20.0) / pairs)
    lo, hi, off, W = delta_weights(ms)
    for r in range(states.shape[0]):
        s = states[r]
        edges = gnp_edges(n, p, s, meter)
        while edges.shape[0] < m_max:
            if meter[CANCEL] != 0:
                return out  # cancelled while drawing the substrate
            edges = gnp_edges(n, p, s, meter)
        M = edges.shape[0]
        ptr = new_forest(n)
        cnt, obs = new_stats(n, n)
        acc, buf, cur = open_tally(P)
        tally_obs(0, obs, buf, cur)
        if start_replicate(meter, m_max):
            return out
        for m in range(1, m_max + 1):
            k = m - 1 + _random_index(M - m + 1, s)
            a = edges[k, 0]
            b = edges[k, 1]
            edges[k, 0] = edges[m - 1, 0]
            edges[k, 1] = edges[m - 1, 1]
            _pass_link(ptr, cnt, obs, a, b, m, buf, cur)
            if cur[0] == BLOCK:
                flush(lo, hi, off, W, acc, buf, cur)
                if at_step(meter, m):
                    return out  # cancelled: the caller discards the rows
        finish(n, lo, hi, off, W, acc, buf, cur, out[r])
        end_replicate(meter, r)
    return out


@njit(cache=True, nogil=True)
def configuration_sweep_batch(
    n: int, ks: np.ndarray, cdf: np.ndarray, phis: np.ndarray, states: np.ndarray, meter: np.ndarray
) -> np.ndarray:
    """Bond percolation with occupation phis[j] on a configuration-model multigraph (iid
    degrees from (ks, cdf)); edges are matched lazily in a uniform order. O(n + M).
    The edge count M, and so the binomial windows, differ between replicates."""
    P = phis.shape[0]
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    for r in range(states.shape[0]):
        s = states[r]
        stubs = configuration_stubs(n, ks, cdf, s)
        lo, hi, off, W = binomial_weights(stubs.shape[0] // 2, phis)
        ptr = new_forest(n)
        cnt, obs = new_stats(n, n)
        acc, buf, cur = open_tally(P)
        tally_obs(0, obs, buf, cur)
        stop = hi.max() if P > 0 else 0
        if start_replicate(meter, stop):
            return out
        for m in range(1, stop + 1):
            a, b = stub_edge(stubs, m - 1, s)
            _pass_link(ptr, cnt, obs, a, b, m, buf, cur)
            if cur[0] == BLOCK:
                flush(lo, hi, off, W, acc, buf, cur)
                if at_step(meter, m):
                    return out  # cancelled: the caller discards the rows
        finish(n, lo, hi, off, W, acc, buf, cur, out[r])
        end_replicate(meter, r)
    return out


@njit(cache=True, nogil=True, inline="always")
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
def lattice_bond_sweep_batch(
    L: int, ps: np.ndarray, states: np.ndarray, meter: np.ndarray
) -> np.ndarray:
    """Bond percolation on the L×L torus at each ps[j], with wrapping detection.

    Bond b < N joins site b to its right neighbour, bond N + i site i to the one below.
    O(L²·α) time, 16 bytes a site.
    """
    P = ps.shape[0]
    N = L * L
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    lo, hi, off, W = binomial_weights(2 * N, ps)
    for r in range(states.shape[0]):
        s = states[r]
        bonds = np.arange(2 * N).astype(np.int32)
        ptr = new_forest(N)
        dx = np.zeros(N, dtype=np.int32)
        dy = np.zeros(N, dtype=np.int32)
        cnt, obs = new_stats(N, N)
        acc, buf, cur = open_tally(P)
        tally_obs(0, obs, buf, cur)
        stop = hi.max() if P > 0 else 0
        if start_replicate(meter, stop):
            return out
        for m in range(1, stop + 1):
            lazy_swap(bonds, m - 1, s)
            b = bonds[m - 1]
            a = b % N
            c, ex, ey = _torus_step(L, a, 0 if b < N else 2)
            link_wrapping(ptr, dx, dy, cnt, obs, a, c, ex, ey, m)
            tally_obs(m, obs, buf, cur)
            if cur[0] == BLOCK:
                flush(lo, hi, off, W, acc, buf, cur)
                if at_step(meter, m):
                    return out  # cancelled: the caller discards the rows
        finish(N, lo, hi, off, W, acc, buf, cur, out[r])
        end_replicate(meter, r)
    return out


@njit(cache=True, nogil=True)
def lattice_site_sweep_batch(
    L: int, ps: np.ndarray, states: np.ndarray, meter: np.ndarray
) -> np.ndarray:
    """Site percolation on the L×L torus at each ps[j], with wrapping detection.

    Clusters, S and the susceptibility count occupied sites only (S = largest / L²).
    O(L²·α) time, 17 bytes a site.
    """
    P = ps.shape[0]
    N = L * L
    out = np.empty((states.shape[0], P, N_MOMENTS), dtype=np.float64)
    lo, hi, off, W = binomial_weights(N, ps)
    for r in range(states.shape[0]):
        s = states[r]
        sites = np.arange(N).astype(np.int32)
        occupied = np.zeros(N, dtype=np.bool_)
        ptr = new_forest(N)
        dx = np.zeros(N, dtype=np.int32)
        dy = np.zeros(N, dtype=np.int32)
        cnt, obs = new_stats(N, 0)
        acc, buf, cur = open_tally(P)
        tally_obs(0, obs, buf, cur)
        stop = hi.max() if P > 0 else 0
        if start_replicate(meter, stop):
            return out
        for m in range(1, stop + 1):
            lazy_swap(sites, m - 1, s)
            i = sites[m - 1]
            occupied[i] = True
            added_site(cnt, obs)
            for d in range(4):
                j, ex, ey = _torus_step(L, i, d)
                if occupied[j]:
                    link_wrapping(ptr, dx, dy, cnt, obs, i, j, ex, ey, m)
            tally_obs(m, obs, buf, cur)
            if cur[0] == BLOCK:
                flush(lo, hi, off, W, acc, buf, cur)
                if at_step(meter, m):
                    return out  # cancelled: the caller discards the rows
        finish(N, lo, hi, off, W, acc, buf, cur, out[r])
        end_replicate(meter, r)
    return out
