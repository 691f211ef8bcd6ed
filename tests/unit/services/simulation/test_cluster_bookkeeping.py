"""The incremental cluster statistics of Newman–Ziff equal a brute-force recount."""

from __future__ import annotations

import numpy as np

from services.simulation.kernels import newman_ziff as nz
from services.simulation.kernels.unionfind import find, new_forest


def recount(ptr: np.ndarray, members: np.ndarray) -> tuple[int, int, int, int]:
    """(largest, second, clusters, Σ s²) over the clusters of the ``members`` nodes."""
    roots = np.array([find(ptr, i) for i in np.flatnonzero(members)], dtype=np.int64)
    sizes = np.sort(np.bincount(roots)[np.unique(roots)])[::-1] if len(roots) else np.array([0])
    second = int(sizes[1]) if len(sizes) > 1 else 0
    return int(sizes[0]), second, len(np.unique(roots)), int(np.sum(sizes.astype(np.int64) ** 2))


def test_random_merges_keep_largest_second_clusters_and_squares_exact() -> None:
    rng = np.random.default_rng(0)
    n = 400
    ptr = new_forest(n)
    cnt, obs = nz.new_stats(n, n)
    everyone = np.ones(n, dtype=bool)
    for u, v in rng.integers(0, n, size=(700, 2)):
        nz.link_counted(ptr, cnt, obs, int(u), int(v))
        assert tuple(obs[:4]) == recount(ptr, everyone)


def test_site_additions_on_the_torus_keep_statistics_exact() -> None:
    rng = np.random.default_rng(1)
    L = 12
    N = L * L
    ptr = new_forest(N)
    dx = np.zeros(N, dtype=np.int32)
    dy = np.zeros(N, dtype=np.int32)
    cnt, obs = nz.new_stats(N, 0)
    occupied = np.zeros(N, dtype=bool)
    for m, i in enumerate(rng.permutation(N), start=1):
        occupied[i] = True
        nz.added_site(cnt, obs)
        x, y = i % L, i // L
        for j, ex, ey in [
            (y * L + (x + 1) % L, 1, 0),
            (y * L + (x - 1) % L, -1, 0),
            (((y + 1) % L) * L + x, 0, 1),
            (((y - 1) % L) * L + x, 0, -1),
        ]:
            if occupied[j]:
                nz.link_wrapping(ptr, dx, dy, cnt, obs, int(i), int(j), ex, ey, m)
        assert tuple(obs[:4]) == recount(ptr, occupied)
        assert obs[4] == m


def test_a_closed_row_wraps_exactly_when_its_last_bond_is_added() -> None:
    L = 9
    N = L * L
    ptr = new_forest(N)
    dx = np.zeros(N, dtype=np.int32)
    dy = np.zeros(N, dtype=np.int32)
    cnt, obs = nz.new_stats(N, N)
    row = 4
    # a staircase that does not wrap, then the row 4 bonds in scrambled order
    for k, x in enumerate([3, 0, 7, 5, 1, 8, 2, 6, 4], start=1):
        a = row * L + x
        nz.link_wrapping(ptr, dx, dy, cnt, obs, a, row * L + (x + 1) % L, 1, 0, k)
        assert obs[5] == (k if k == L else np.iinfo(np.int64).max)
    assert obs[0] == L and obs[2] == N - L + 1


def test_a_local_loop_does_not_wrap() -> None:
    L = 6
    N = L * L
    ptr = new_forest(N)
    dx = np.zeros(N, dtype=np.int32)
    dy = np.zeros(N, dtype=np.int32)
    cnt, obs = nz.new_stats(N, N)
    a, b, c, d = 7, 8, 14, 13  # the unit square (1,1) (2,1) (2,2) (1,2)
    for k, (s, t, ex, ey) in enumerate([(a, b, 1, 0), (b, c, 0, 1), (d, c, 1, 0), (a, d, 0, 1)]):
        nz.link_wrapping(ptr, dx, dy, cnt, obs, s, t, ex, ey, k + 1)
    assert obs[5] == np.iinfo(np.int64).max and obs[0] == 4
