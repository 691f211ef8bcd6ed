"""Bounded integer draws equal a big-integer reference of Lemire's method on the raw stream."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit, uint64
from scipy import stats

from services.simulation.kernels import rng

MASK64 = 2**64 - 1


@njit
def next_pair_below(s: np.ndarray, bound: int) -> tuple[int, int]:
    """``rng.pair_below`` (the sweep's scalar-state draw) on an array state, for the tests."""
    u, v, s[0], s[1], s[2], s[3] = rng.pair_below(uint64(bound), s[0], s[1], s[2], s[3])
    return int(u), int(v)


@pytest.mark.parametrize("bound", [1, 2, 3, 7, 100_000, 2**31 + 11, 2**62 + 5])
def test_next_below_is_lemire_on_the_raw_stream(bound: int) -> None:
    s, raw = rng.stream_state(5, 1), rng.stream_state(5, 1)
    for _ in range(3000):
        while True:  # reference: accept the high word unless the low word is below 2^64 mod b
            product = int(rng.next_u64(raw)) * bound
            if product & MASK64 >= (2**64 - bound) % bound:
                break
        assert rng.next_below(s, bound) == product >> 64


@pytest.mark.parametrize("bound", [1, 2, 3, 7, 100_000, 2**31 + 11, 2**32])
def test_pair_below_is_lemire_on_both_halves(bound: int) -> None:
    s, raw = rng.stream_state(6, 0), rng.stream_state(6, 0)
    for _ in range(3000):
        x = int(rng.next_u64(raw))
        expected = []
        for half in (x >> 32, x & 0xFFFFFFFF):
            while (half * bound) & 0xFFFFFFFF < 2**32 % bound:
                half = int(rng.next_u64(raw)) >> 32
            expected.append((half * bound) >> 32)
        assert next_pair_below(s, bound) == tuple(expected)


def test_pair_halves_are_uniform_and_independent() -> None:
    s = rng.stream_state(7, 3)
    pairs = np.array([next_pair_below(s, 6) for _ in range(36_000)])
    table = np.zeros((6, 6))
    np.add.at(table, (pairs[:, 0], pairs[:, 1]), 1)
    assert stats.chisquare(table.ravel()).pvalue > 1e-3
