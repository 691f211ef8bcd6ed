"""Direct sampling of one realization per replicate, streamed into a union–find.

Every batch kernel takes ``states`` (uint64[R, 4], one xoshiro256** stream per
replicate, advanced in place) and a ``meter`` (kernels.meter: it stops early, rows
unusable, once the meter's cancel flag is set) and returns ``int64[R, 4]`` rows
``(edges, largest, second_largest, components)``. Edge lists are never stored (the
configuration model keeps its stub array; the threaded G(n, p) schedule keeps a few
1/GNP_PARTS parts): each edge is merged into the forest as it is drawn, so memory is the
4-byte-a-node forest.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from services.common.control import CANCEL, METER_SIZE, STEPS
from services.simulation.kernels.meter import at_step, end_replicate, start_replicate
from services.simulation.kernels.prefetch import prefetch
from services.simulation.kernels.rng import next_below, next_double
from services.simulation.kernels.unionfind import find, new_forest, summarize, union_roots

CHECK_EVERY = (1 << 16) - 1  # poll the meter once per 65536 edges (~1 ms)


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
def pair_at(k: int, n: int) -> tuple[int, int]:
    """Pair number k (0-based) of the lexicographic order (1, 0), (2, 0), (2, 1), (3, 0), ...
    of pairs w < v, i.e. k = v(v-1)/2 + w; (n, 0) for k = n(n-1)/2, the end. O(1)."""
    v = int((1.0 + math.sqrt(1.0 + 8.0 * float(k))) / 2.0)
    while v * (v - 1) // 2 > k:  # float rounding near row ends
        v -= 1
    while (v + 1) * v // 2 <= k:
        v += 1
    return v, k - v * (v - 1) // 2


@njit(cache=True, nogil=True)
def part_bounds(n: int, parts: int) -> np.ndarray:
    """int64[parts + 1] pair numbers cutting the n(n-1)/2 pairs into ``parts`` equal ranges."""
    pairs = n * (n - 1) // 2 if n >= 2 else 0
    base, extra = divmod(pairs, parts)
    out = np.empty(parts + 1, dtype=np.int64)
    out[0] = 0
    for k in range(parts):
        out[k + 1] = out[k] + base + (1 if k < extra else 0)
    return out


PAIRS_AHEAD = 64
"""Pairs a kernel draws ahead of linking them, prefetching their forest entries meanwhile:
a find's first read then hits the cache instead of waiting ~100 ns on memory (the forest of
n = 10^6 is 4 MB, past L2). The draws and the links keep their order: the same bytes."""


@njit(cache=True, nogil=True, inline="always")
def prefetch_parents(ptr: np.ndarray, ahead: np.ndarray, k: int) -> None:
    """Second prefetch step for the first k pairs of ``ahead`` (whose own entries were
    prefetched while drawing): fetch their parents too, the next read of each find."""
    for j in range(k):
        a = ptr[ahead[j, 0]]
        if a >= 0:
            prefetch(ptr, a)
        b = ptr[ahead[j, 1]]
        if b >= 0:
            prefetch(ptr, b)


@njit(cache=True, nogil=True)
def gnp_range_into_forest(ptr: np.ndarray, p: float, lo: int, hi: int, s: np.ndarray) -> int:
    """Draw each pair numbered lo..hi-1 (see ``pair_at``) with probability p by geometric
    skipping, linking the drawn ones in the forest (PAIRS_AHEAD at a time, their entries
    and then their parents prefetched); return their count. O(hi/n + m)."""
    n = ptr.shape[0]
    if p <= 0.0 or lo >= hi:
        return 0
    inv = inverse_log_q(p)
    vh, wh = pair_at(hi, n)
    v, w = pair_at(lo, n)
    ahead = np.empty((PAIRS_AHEAD, 2), dtype=np.int64)
    edges = 0
    v, w = next_pair(v, w - 1, n, inv, s)
    while v < vh or (v == vh and w < wh):
        k = 0
        while k < PAIRS_AHEAD and (v < vh or (v == vh and w < wh)):
            ahead[k, 0] = v
            ahead[k, 1] = w
            prefetch(ptr, v)
            prefetch(ptr, w)
            k += 1
            v, w = next_pair(v, w, n, inv, s)
        prefetch_parents(ptr, ahead, k)
        for j in range(k):
            link(ptr, ahead[j, 0], ahead[j, 1])
        edges += k
    return edges


@njit(cache=True, nogil=True)
def gnp_into_forest(ptr: np.ndarray, p: float, s: np.ndarray) -> int:
    """Draw G(n, p) on the forest's n nodes from one stream; return the edge count."""
    n = ptr.shape[0]
    return gnp_range_into_forest(ptr, p, 0, n * (n - 1) // 2, s)


@njit(cache=True, nogil=True)
def gnp_range_edges(
    n: int, p: float, lo: int, hi: int, s: np.ndarray, meter: np.ndarray
) -> np.ndarray:
    """The edge list (int32[m, 2], rows (v, w), w < v, in walk order) that
    ``gnp_range_into_forest`` links from the same stream state; O(m) memory (sized for the
    mean plus 8 standard deviations, doubled in the rare case that is not enough). Stops
    early (a partial list) once ``meter``'s cancel flag is set (polled every 65536 edges)."""
    mean = p * float(hi - lo)
    cap = int(min(mean + 8.0 * math.sqrt(mean) + 1024.0, float(max(hi - lo, 1))))
    out = np.empty((cap, 2), dtype=np.int32)
    m = 0
    if p > 0.0 and lo < hi:
        inv = inverse_log_q(p)
        vh, wh = pair_at(hi, n)
        v, w = pair_at(lo, n)
        v, w = next_pair(v, w - 1, n, inv, s)
        while v < vh or (v == vh and w < wh):
            if m == cap:
                cap *= 2
                grown = np.empty((cap, 2), dtype=np.int32)
                grown[:m] = out[:m]
                out = grown
            out[m, 0] = v
            out[m, 1] = w
            m += 1
            if (m & CHECK_EVERY) == 0 and meter[CANCEL] != 0:
                break  # cancelled: the caller discards the list
            v, w = next_pair(v, w, n, inv, s)
    return out[:m]


@njit(cache=True, nogil=True)
def gnp_edges(n: int, p: float, s: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """The edge list of the G(n, p) that ``gnp_into_forest`` draws from the same stream
    (partial once ``meter`` is cancelled)."""
    return gnp_range_edges(n, p, 0, n * (n - 1) // 2 if n >= 2 else 0, s, meter)


@njit(cache=True, nogil=True)
def gnp_split_edges(n: int, p: float, parts: np.ndarray) -> np.ndarray:
    """The edge list of the G(n, p) that ``gnp_batch`` draws from one replicate's
    sub-streams ``parts`` (uint64[GNP_PARTS, 4]): the parts' lists, concatenated."""
    bounds = part_bounds(n, parts.shape[0])
    unwatched = np.zeros(METER_SIZE, dtype=np.int64)
    lists = [
        gnp_range_edges(n, p, bounds[k], bounds[k + 1], parts[k], unwatched)
        for k in range(parts.shape[0])
    ]
    total = 0
    for e in lists:
        total += e.shape[0]
    out = np.empty((total, 2), dtype=np.int32)
    j = 0
    for e in lists:
        out[j : j + e.shape[0]] = e
        j += e.shape[0]
    return out


@njit(cache=True, nogil=True)
def _store(out: np.ndarray, r: int, edges: int, ptr: np.ndarray) -> None:
    largest, second, components = summarize(ptr)
    out[r, 0] = edges
    out[r, 1] = largest
    out[r, 2] = second
    out[r, 3] = components


GNP_PARTS = 16
"""Equal parts the pair space of one G(n, p) replicate is cut into, each drawn from its own
sub-stream (rng.substream_states). Fixed (never the thread count), so the graph drawn is
the same however the parts are scheduled; 16 lets the threaded schedule pipeline drawing
(one thread) with linking (another) in small steps."""


@njit(cache=True, nogil=True)
def gnp_batch(n: int, p: float, states: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """One G(n, p) realization per replicate from its sub-streams ``states[r]``
    (uint64[R, parts, 4]), part k covering pairs part_bounds(n, parts)[k..k+1]; all parts
    go into one forest (the serial schedule). O(R·(n + m)) time, O(n) memory. Polls the
    ``meter`` (kernels.meter) between parts."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    parts = states.shape[1]
    bounds = part_bounds(n, parts)
    for r in range(states.shape[0]):
        if start_replicate(meter, parts):
            return out
        ptr = new_forest(n)
        edges = 0
        for k in range(parts):
            edges += gnp_range_into_forest(ptr, p, bounds[k], bounds[k + 1], states[r, k])
            if at_step(meter, k + 1):
                return out  # cancelled: the caller discards the rows
        _store(out, r, edges, ptr)
        end_replicate(meter, r)
    return out


@njit(cache=True, nogil=True)
def gnp_part_forest(ptr: np.ndarray, p: float, parts: int, s: np.ndarray) -> int:
    """Reset ``ptr`` to n singletons and draw part 0 of ``parts`` of G(n, p) into it (the
    threaded schedule; other threads draw the other parts as edge lists with
    ``gnp_part_edges``); return its edge count. O(n + m_0)."""
    ptr[:] = -1
    bounds = part_bounds(ptr.shape[0], parts)
    return gnp_range_into_forest(ptr, p, bounds[0], bounds[1], s)


@njit(cache=True, nogil=True)
def gnp_part_edges(n: int, p: float, part: int, parts: int, s: np.ndarray) -> np.ndarray:
    """Edge list (int32[m_part, 2]) of part ``part`` of ``parts`` of G(n, p), drawn without
    touching a forest, so it runs beside the thread that links. O(m_part) time and memory."""
    bounds = part_bounds(n, parts)
    return gnp_range_edges(
        n, p, bounds[part], bounds[part + 1], s, np.zeros(METER_SIZE, dtype=np.int64)
    )


@njit(cache=True, nogil=True)
def link_edges(ptr: np.ndarray, edges: np.ndarray) -> int:
    """Link every edge (rows of int32[m, 2]) into the forest, in order, PAIRS_AHEAD rows at a
    time: their entries, then their parents, prefetched first; return m. O(m·α(n))."""
    m = edges.shape[0]
    for first in range(0, m, PAIRS_AHEAD):
        rows = edges[first : min(first + PAIRS_AHEAD, m)]
        for j in range(rows.shape[0]):
            prefetch(ptr, rows[j, 0])
            prefetch(ptr, rows[j, 1])
        prefetch_parents(ptr, rows, rows.shape[0])
        for j in range(rows.shape[0]):
            link(ptr, rows[j, 0], rows[j, 1])
    return m


@njit(cache=True, nogil=True)
def stats_row(ptr: np.ndarray, edges: int) -> np.ndarray:
    """The row (int64[4]: edges, largest, second_largest, components) of a finished forest."""
    out = np.empty((1, 4), dtype=np.int64)
    _store(out, 0, edges, ptr)
    return out[0]


@njit(cache=True, nogil=True)
def gnm_into_forest(ptr: np.ndarray, m: int, s: np.ndarray, meter: np.ndarray) -> None:
    """Draw a uniform graph with exactly m distinct edges; O(n + m) time, no edge storage.

    A G(n, p') walk with p' a little above m/N gives a uniform random superset of M' >= m
    pairs (retried if M' < m); a second walk replays the same stream and keeps each pair
    with probability (m - kept)/(M' - seen) (Knuth's selection sampling), which picks a
    uniform m-subset of a uniform superset: a uniform m-subset of all pairs. Returns early
    (a partial forest) once ``meter``'s cancel flag is set (polled every 65536 pairs).
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
            if (total & CHECK_EVERY) == 0 and meter[CANCEL] != 0:
                return  # cancelled: the caller discards the forest
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
        if (seen & CHECK_EVERY) == 0 and meter[CANCEL] != 0:
            return  # cancelled: the caller discards the forest
        v, w = next_pair(v, w, n, inv, start)


@njit(cache=True, nogil=True)
def gnm_batch(n: int, m: int, states: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """One uniform G(n, m) realization per row of ``states``; polls ``meter`` per replicate
    and every 65536 pairs walked."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    for r in range(states.shape[0]):
        if start_replicate(meter, 1):
            return out
        ptr = new_forest(n)
        gnm_into_forest(ptr, m, states[r], meter)
        if meter[CANCEL] != 0:
            return out  # cancelled: the forest is partial
        _store(out, r, m, ptr)
        end_replicate(meter, r)
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
    n: int, ks: np.ndarray, cdf: np.ndarray, phi: float, states: np.ndarray, meter: np.ndarray
) -> np.ndarray:
    """Configuration model with iid degrees from (ks, cdf), each edge kept with prob phi."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    for r in range(states.shape[0]):
        s = states[r]
        if start_replicate(meter, 1):
            return out
        stubs = configuration_stubs(n, ks, cdf, s)
        ptr = new_forest(n)
        edges = 0
        pairs = stubs.shape[0] // 2
        meter[STEPS] = pairs
        for e in range(pairs):
            if (e & CHECK_EVERY) == 0 and at_step(meter, e):
                return out  # cancelled: the caller discards the rows
            a, b = stub_edge(stubs, e, s)
            if phi >= 1.0 or next_double(s) < phi:
                link(ptr, a, b)
                edges += 1
        _store(out, r, edges, ptr)
        end_replicate(meter, r)
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
def lattice_bond_batch(L: int, p: float, states: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """Bond percolation on the L×L torus (2L² bonds, each open with prob p), by skipping."""
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    bonds = 2 * L * L
    for r in range(states.shape[0]):
        s = states[r]
        if start_replicate(meter, bonds):
            return out
        ptr = new_forest(L * L)
        edges = 0
        if p > 0.0:
            inv = inverse_log_q(p)
            b = int(min(geometric_skip(inv, s), float(bonds)))
            while b < bonds:
                a, c = lattice_neighbour(L, b)
                link(ptr, a, c)
                edges += 1
                if (edges & CHECK_EVERY) == 0 and at_step(meter, b):
                    return out  # cancelled: the caller discards the rows
                b += 1 + int(min(geometric_skip(inv, s), float(bonds)))
        _store(out, r, edges, ptr)
        end_replicate(meter, r)
    return out


@njit(cache=True, nogil=True)
def lattice_site_batch(L: int, p: float, states: np.ndarray, meter: np.ndarray) -> np.ndarray:
    """Site percolation on the L×L torus: sites open with prob p; clusters of open sites.

    ``edges`` counts bonds between open neighbours; components count open clusters only.
    """
    out = np.empty((states.shape[0], 4), dtype=np.int64)
    N = L * L
    for r in range(states.shape[0]):
        s = states[r]
        if start_replicate(meter, 1):
            return out
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
        end_replicate(meter, r)
    return out
