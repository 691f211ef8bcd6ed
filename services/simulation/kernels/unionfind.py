"""Weighted union–find over int32 arrays, the one cluster structure every kernel shares.

A forest is one ``int32[n]`` array ``ptr``: ``ptr[i] >= 0`` is the parent of ``i``;
a root holds ``-size`` (Newman & Ziff 2001), so memory is 4 bytes a node. ``find`` halves
paths as it walks; ``union`` links the smaller tree under the larger. Any sequence of
m operations on n nodes costs O(n + m·α(n)).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def new_forest(n: int) -> np.ndarray:
    """n singleton clusters: ``int32[n]`` filled with -1. O(n)."""
    return np.full(n, -1, dtype=np.int32)


@njit(cache=True, nogil=True)
def find(ptr: np.ndarray, i: int) -> int:
    """Root of ``i``, halving the path on the way (every node points to its grandparent)."""
    while ptr[i] >= 0:
        parent = ptr[i]
        grand = ptr[parent]
        if grand < 0:
            return parent
        ptr[i] = grand
        i = grand
    return i


@njit(cache=True, nogil=True)
def union_roots(ptr: np.ndarray, r1: int, r2: int) -> int:
    """Merge two distinct roots by size; return the surviving root."""
    if ptr[r1] > ptr[r2]:  # sizes are stored negated: r1 is the smaller
        r1, r2 = r2, r1
    ptr[r1] += ptr[r2]
    ptr[r2] = r1
    return r1


@njit(cache=True, nogil=True)
def summarize(ptr: np.ndarray) -> tuple[int, int, int]:
    """(largest, second_largest, components) of the whole forest in one O(n) scan."""
    largest = 0
    second = 0
    components = 0
    for i in range(ptr.shape[0]):
        if ptr[i] < 0:
            components += 1
            s = -ptr[i]
            if s > largest:
                second = largest
                largest = s
            elif s > second:
                second = s
    return largest, second, components


@njit(cache=True, nogil=True)
def component_sizes(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Sizes of the connected components of the graph on n nodes with edges (src[k], dst[k]).

    Sorted in decreasing order; isolated nodes count as components of size 1.
    O(n + m·α(n)) for the union–find plus O(k log k) for the sort of the k sizes.
    """
    ptr = new_forest(n)
    for k in range(src.shape[0]):
        a = find(ptr, src[k])
        b = find(ptr, dst[k])
        if a != b:
            union_roots(ptr, a, b)
    count = 0
    for i in range(n):
        if ptr[i] < 0:
            count += 1
    sizes = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(n):
        if ptr[i] < 0:
            sizes[j] = -ptr[i]
            j += 1
    return np.sort(sizes)[::-1].copy()
