"""Direct sampling of one realization per replicate, streamed into a union–find.

Every batch kernel takes ``states`` (uint64[R, 4], one xoshiro256** stream per
replicate, advanced in place) and returns ``int64[R, 4]`` rows
``(edges, largest, second_largest, components)``. Edge lists are never stored (the
configuration model keeps its stub array): each edge is merged into the forest as it is
drawn, so memory is the 4-byte-a-node forest.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from services.simulation.kernels.rng import next_below, next_double
from services.simulation.kernels.unionfind import find, new_forest, summarize, union_roots

STATS_COLUMNS = ("edges", "largest", "second_largest", "components")


@njit(cache=True, nogil=True)
def inverse_log_q(p: float) -> float:
    """1/log(1-p), the scale of geometric skips (−0.0 for p = 1: every slot is taken)."""
    return 1.0 / math.log1p(-p)


@njit(cache=True, nogil=True, inline="always")
def geometric_skip(inv_log_q: float, s: np.ndarray) -> float:
    """Failures before the next success of a Bernoulli(p) sequence, as a float >= 0 not yet
    floored (callers cap it before converting, since it can exceed int64 for tiny p).

    Inversion of the geometric law: floor(log(U)/log(1-p)), U uniform on (0, 1].
    """
    return math.log(1.0 - next_double(s)) * inv_log_q


@njit(cache=True, nogil=True, inline="always")
def link(ptr: np.ndarray, a: int, b: int) -> None:
    """Add edge (a, b) to the forest."""
    ra = find(ptr, a)
    rb = find(ptr, b)
    if ra != rb:
        union_roots(ptr, ra, rb)


@njit(cache=True, nogil=True, inline="always")
def next_pair(v: int, w: int, n: int, inv_log_q: float, s: np.ndarray) -> tuple[int, int]:
    """Next present pair (v, w), w < v, after (v, w) in lexicographic order; v >= n at the end.

    Batagelj & Brandes (2005): the gap to the next present pair is geometric with
    parameter p, so a walk over all n(n-1)/2 pairs costs O(n + m) with one log per edge.
    """
    skip = geometric_skip(inv_log_q, s)
    if skip >= float(n) * float(n):  # past every remaining pair
        return n, 0
    w += 1 + int(skip)  # truncation = floor for skip >= 0
    while w >= v and v < n:
        w -= v
        v += 1
    return v, w


@njit(cache=True, nogil=True)
def gnp_into_forest(ptr: np.ndarray, p: float, s: np.ndarray) -> int:
    """Draw G(n, p) on the forest's n nodes by geometric skipping; return the edge count."""
    n = ptr.shape[0]
    if p <= 0.0 or n < 2:
        return 0
    inv = inverse_log_q(p)
    edges = 0
    v, w = next_pair(1, -1, n, inv, s)
    while v < n:
        link(ptr, v, w)
        edges += 1
        v, w = next_pair(v, w, n, inv, s)
    return edges


@njit(cache=True, nogil=True)
def gnp_edges(n: int, p: float, s: np.ndarray) -> np.ndarray:
    """The edge list (int32[m, 2], rows (v, w), w < v, in walk order) of the G(n, p) that
    ``gnp_into_forest`` draws from the same stream state; O(m) memory (array doubling)."""
    cap = 1024
    out = np.empty((cap, 2), dtype=np.int32)
    m = 0
    if p > 0.0 and n >= 2:
        inv = inverse_log_q(p)
        v, w = next_pair(1, -1, n, inv, s)
        while v < n:
            if m == cap:
                cap *= 2
                grown = np.empty((cap, 2), dtype=np.int32)
                grown[:m] = out[:m]
                out = grown
            out[m, 0] = v
            out[m, 1] = w
            m += 1
            v, w = next_pair(v, w, n, inv, s)
    return out[:m].copy()


@njit(cache=True, nogil=True)
def _store(out: np.ndarray, r: int, edges: int, ptr: np.ndarray) -> None:
    largest, second, components = summarize(ptr)
    out[r, 0] = edges
    out[r, 1] = largest
    out[r, 2] = second
    out[r, 3] = components


@njit(cache=True, nogil=True)
def gnp_batch(n: int, p: float, states: np.ndarray) -> np.ndarray:
    """One G(n, p) realization per row of ``states``; O(R·(n + m)) time, O(n) memory."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    for r in range(states.shape[0]):
        ptr = new_forest(n)
        edges = gnp_into_forest(ptr, p, states[r])
        _store(out, r, edges, ptr)
    return out


@njit(cache=True, nogil=True)
def gnm_into_forest(ptr: np.ndarray, m: int, s: np.ndarray) -> None:
    """Draw a uniform graph with exactly m distinct edges; O(n + m) time, no edge storage.

    A G(n, p') walk with p' a little above m/N gives a uniform random superset of M' >= m
    pairs (retried if M' < m); a second walk replays the same stream and keeps each pair
    with probability (m - kept)/(M' - seen) (Knuth's selection sampling), which picks a
    uniform m-subset of a uniform superset: a uniform m-subset of all pairs.
    """
    n = ptr.shape[0]
    pairs = float(n) * float(n - 1) / 2.0
    if m <= 0:
        return
    p = min(1.0, (m + 10.0 * math.sqrt(m) + 20.0) / pairs)
    inv = inverse_log_q(p)
    while True:
        start = s.copy()
        total = 0
        v, w = next_pair(1, -1, n, inv, s)
        while v < n:
            total += 1
            v, w = next_pair(v, w, n, inv, s)
        if total >= m:
            break
    kept = 0
    seen = 0
    v, w = next_pair(1, -1, n, inv, start)
    while v < n and kept < m:
        # s continues past the first walk, so the coin flips never reuse its numbers
        if next_double(s) * (total - seen) < m - kept:
            link(ptr, v, w)
            kept += 1
        seen += 1
        v, w = next_pair(v, w, n, inv, start)


@njit(cache=True, nogil=True)
def gnm_batch(n: int, m: int, states: np.ndarray) -> np.ndarray:
    """One uniform G(n, m) realization per row of ``states``."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    for r in range(states.shape[0]):
        ptr = new_forest(n)
        gnm_into_forest(ptr, m, states[r])
        _store(out, r, m, ptr)
    return out


@njit(cache=True, nogil=True)
def draw_degrees(n: int, ks: np.ndarray, cdf: np.ndarray, s: np.ndarray) -> np.ndarray:
    """n iid degrees from the table (ks, cdf) by inversion; one extra stub on a random node
    if the sum is odd, so stubs pair up. O(n log len(ks))."""
    deg = np.empty(n, dtype=np.int64)
    total = 0
    for i in range(n):
        deg[i] = ks[np.searchsorted(cdf, next_double(s), side="right")]
        total += deg[i]
    if total % 2 == 1:
        deg[next_below(s, n)] += 1
    return deg


@njit(cache=True, nogil=True)
def configuration_stubs(n: int, ks: np.ndarray, cdf: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Stub array (node i repeated deg[i] times, int32) of iid degrees; O(n + m)."""
    deg = draw_degrees(n, ks, cdf, s)
    stubs = np.empty(deg.sum(), dtype=np.int32)
    j = 0
    for i in range(n):
        for _ in range(deg[i]):
            stubs[j] = i
            j += 1
    return stubs


@njit(cache=True, nogil=True, inline="always")
def lazy_swap(items: np.ndarray, i: int, s: np.ndarray) -> None:
    """Step i of a forward Fisher–Yates shuffle: move a uniform pick of items[i:] to i.

    Done lazily, one step per item consumed, so a pass that stops early never pays for
    the rest; the first k items are a uniform random ordered k-sample.
    """
    k = i + np.int64(next_below(s, items.shape[0] - i))
    tmp = items[i]
    items[i] = items[k]
    items[k] = tmp


@njit(cache=True, nogil=True, inline="always")
def stub_edge(stubs: np.ndarray, e: int, s: np.ndarray) -> tuple[int, int]:
    """Edge e of a uniform random matching of the stubs, drawn lazily (edges come in a
    uniform random order; self-loops and multi-edges are kept)."""
    lazy_swap(stubs, 2 * e, s)
    lazy_swap(stubs, 2 * e + 1, s)
    return stubs[2 * e], stubs[2 * e + 1]


@njit(cache=True, nogil=True)
def configuration_batch(
    n: int, ks: np.ndarray, cdf: np.ndarray, phi: float, states: np.ndarray
) -> np.ndarray:
    """Configuration model with iid degrees from (ks, cdf), each edge kept with prob phi."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    for r in range(states.shape[0]):
        s = states[r]
        stubs = configuration_stubs(n, ks, cdf, s)
        ptr = new_forest(n)
        edges = 0
        for e in range(stubs.shape[0] // 2):
            a, b = stub_edge(stubs, e, s)
            if phi >= 1.0 or next_double(s) < phi:
                link(ptr, a, b)
                edges += 1
        _store(out, r, edges, ptr)
    return out


@njit(cache=True, nogil=True, inline="always")
def lattice_neighbour(L: int, bond: int) -> tuple[int, int]:
    """Ends of bond ``bond`` of the L×L torus: bond i < N joins site i to its right
    neighbour, bond N + i joins site i to the one below (site i = x + L·y)."""
    N = L * L
    i = bond % N
    x = i % L
    y = i // L
    if bond < N:
        return i, y * L + (x + 1) % L
    return i, ((y + 1) % L) * L + x


@njit(cache=True, nogil=True)
def lattice_bond_batch(L: int, p: float, states: np.ndarray) -> np.ndarray:
    """Bond percolation on the L×L torus (2L² bonds, each open with prob p), by skipping."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    bonds = 2 * L * L
    for r in range(states.shape[0]):
        s = states[r]
        ptr = new_forest(L * L)
        edges = 0
        if p > 0.0:
            inv = inverse_log_q(p)
            b = int(min(geometric_skip(inv, s), float(bonds)))
            while b < bonds:
                a, c = lattice_neighbour(L, b)
                link(ptr, a, c)
                edges += 1
                b += 1 + int(min(geometric_skip(inv, s), float(bonds)))
        _store(out, r, edges, ptr)
    return out


@njit(cache=True, nogil=True)
def lattice_site_batch(L: int, p: float, states: np.ndarray) -> np.ndarray:
    """Site percolation on the L×L torus: sites open with prob p; clusters of open sites.

    ``edges`` counts bonds between open neighbours; components count open clusters only.
    """
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    N = L * L
    for r in range(states.shape[0]):
        s = states[r]
        open_ = np.zeros(N, dtype=np.bool_)
        if p > 0.0:
            inv = inverse_log_q(p)
            i = int(min(geometric_skip(inv, s), float(N)))
            while i < N:
                open_[i] = True
                i += 1 + int(min(geometric_skip(inv, s), float(N)))
        ptr = new_forest(N)
        edges = 0
        for b in range(2 * N):
            a, c = lattice_neighbour(L, b)
            if open_[a] and open_[c]:
                link(ptr, a, c)
                edges += 1
        largest = 0
        second = 0
        components = 0
        for i in range(N):
            if ptr[i] < 0 and open_[i]:
                components += 1
                size = -ptr[i]
                if size > largest:
                    second = largest
                    largest = size
                elif size > second:
                    second = size
        out[r, 0] = edges
        out[r, 1] = largest
        out[r, 2] = second
        out[r, 3] = components
    return out
