"""Explicit per-replicate random streams for numba kernels (xoshiro256**).

A stream's 256-bit state comes from ``numpy.random.SeedSequence(seed, spawn_key=(r,))``,
so replicate ``r`` of a request draws the same numbers whatever thread runs it and
however many threads exist. Kernels take the state as a ``uint64[4]`` array and advance
it in place; numba's global RNG is never used (it is not reproducible across threads).
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_MASK53 = uint64((1 << 53) - 1)
_MASK32 = uint64(0xFFFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


def stream_state(seed: int, replicate: int) -> np.ndarray:
    """Return the xoshiro256** state (uint64[4]) of stream ``replicate`` under ``seed``."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(replicate,))
    state = ss.generate_state(4, dtype=np.uint64)
    if not state.any():  # the all-zero state is the one fixed point of xoshiro
        state[0] = np.uint64(0x9E3779B97F4A7C15)
    return state


def substream_states(seed: int, first: int, count: int, parts: int) -> np.ndarray:
    """Sub-streams of replicates ``first .. first+count-1``: uint64[count, parts, 4].

    Replicate r's ``parts`` states are the 4·parts words of SeedSequence(seed,
    spawn_key=(r, parts)), 4 per part: independent of stream_state(seed, r) and of each
    other, for kernels that cut one replicate's work into a fixed number of parts (one
    SeedSequence a replicate, not one a part: each costs ~50 µs).
    """
    out = np.empty((count, parts, 4), dtype=np.uint64)
    for i in range(count):
        ss = np.random.SeedSequence(entropy=seed, spawn_key=(first + i, parts))
        out[i] = ss.generate_state(4 * parts, dtype=np.uint64).reshape(parts, 4)
        for k in range(parts):
            if not out[i, k].any():  # the all-zero state is the one fixed point of xoshiro
                out[i, k, 0] = np.uint64(0x9E3779B97F4A7C15)
    return out


def stream_states(seed: int, first: int, count: int) -> np.ndarray:
    """States of replicates ``first .. first+count-1`` as a (count, 4) uint64 array."""
    out = np.empty((count, 4), dtype=np.uint64)
    for i in range(count):
        out[i] = stream_state(seed, first + i)
    return out


@njit(cache=True, nogil=True, inline="always")
def _rotl(x: int, k: int) -> int:
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(cache=True, nogil=True, inline="always")
def xoshiro(s0: int, s1: int, s2: int, s3: int) -> tuple[int, int, int, int, int]:
    """One xoshiro256** step (Blackman & Vigna) on a state held in four scalars: (64 random
    bits, new state). Hot loops keep the state in registers this way; an array state is
    reloaded after every store the compiler cannot prove does not alias it."""
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(cache=True, nogil=True)
def next_u64(s: np.ndarray) -> int:
    """Advance ``s`` (uint64[4]) and return 64 random bits (``xoshiro``)."""
    result, s[0], s[1], s[2], s[3] = xoshiro(s[0], s[1], s[2], s[3])
    return result


@njit(cache=True, nogil=True)
def next_double(s: np.ndarray) -> float:
    """Uniform double in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> uint64(11)) * _INV53


@njit(cache=True, nogil=True)
def next_below(s: np.ndarray, bound: int) -> int:
    """Uniform integer in [0, bound) without modulo bias (Lemire's multiply-shift).

    The rejection threshold 2^64 mod bound (a 64-bit division) is computed only when the
    low word falls below ``bound``, which is the only case where it can reject.
    """
    b = uint64(bound)
    threshold = uint64(0)
    ready = False
    while True:
        x = next_u64(s)
        # 128-bit product high/low words via 32-bit halves
        x_lo = x & uint64(0xFFFFFFFF)
        x_hi = x >> uint64(32)
        b_lo = b & uint64(0xFFFFFFFF)
        b_hi = b >> uint64(32)
        lo_lo = x_lo * b_lo
        hi_lo = x_hi * b_lo
        lo_hi = x_lo * b_hi
        hi_hi = x_hi * b_hi
        cross = (lo_lo >> uint64(32)) + (hi_lo & uint64(0xFFFFFFFF)) + lo_hi
        high = hi_hi + (hi_lo >> uint64(32)) + (cross >> uint64(32))
        low = x * b
        if low >= b:
            return int(high)
        if not ready:
            threshold = (uint64(0) - b) % b
            ready = True
        if low >= threshold:
            return int(high)


@njit(cache=True, nogil=True, inline="always")
def _below32(h: int, b: int, s0: int, s1: int, s2: int, s3: int) -> tuple[int, int, int, int, int]:
    """Lemire's method in 32 bits: the 32 random bits h mapped to [0, b), redrawing on the
    rare rejection (2^32 mod b, a division, is computed only then); returns the state too."""
    m = h * b
    if (m & _MASK32) < b:
        threshold = (uint64(1) << uint64(32)) % b
        while (m & _MASK32) < threshold:
            x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
            m = (x >> uint64(32)) * b
    return m >> uint64(32), s0, s1, s2, s3


@njit(cache=True, nogil=True, inline="always")
def pair_below(b: int, s0: int, s1: int, s2: int, s3: int) -> tuple[int, int, int, int, int, int]:
    """Two independent uniform integers in [0, b), 1 <= b <= 2^32 (b a uint64), from the two
    32-bit halves of one draw, on a scalar state: (u, v, new state)."""
    x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
    u, s0, s1, s2, s3 = _below32(x >> uint64(32), b, s0, s1, s2, s3)
    v, s0, s1, s2, s3 = _below32(x & _MASK32, b, s0, s1, s2, s3)
    return u, v, s0, s1, s2, s3
