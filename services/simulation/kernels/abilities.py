"""Finite evaluation sets of a model with independent per-token errors (emergent-ability kernels).

Generation task: an item is k reference tokens; the model gets each token right
independently with probability p (its per-token accuracy at that size). Scores per item:
exact match (all k right), token accuracy (fraction right) and normalised edit distance
(Levenshtein distance / k). A wrong token is a substitution; with ``vocab = 0`` it is a
token that appears nowhere in the reference (large-vocabulary limit), with ``vocab = V``
it is uniform among the V - 1 other tokens and the reference tokens are uniform on V.

Multiple-choice task (Thurstonian likelihood model): an item has K options of k tokens;
the model's log-likelihood of each option is the sum of k per-token log-likelihoods, each
an independent unit normal shifted by ``d`` for the correct option's tokens. The sum for
the correct option is therefore N(k·d, k) and for a distractor N(0, k); the item is right
when the correct option has the highest total (ties have probability zero).

Every kernel takes ``states`` (uint64[R, 4], one xoshiro256** stream per replicate,
advanced in place) and returns one row per replicate, so results do not depend on how
replicates are batched or threaded. Within a replicate the stream is consumed size by
size, item by item: first the generation draws (if requested), then the K normals of the
multiple-choice item (if requested).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from services.simulation.kernels.meter import at_step, end_replicate, start_replicate
from services.simulation.kernels.rng import next_below, next_double

# Column order of the per-replicate output of ``ability_scores``.
COL_EXACT_MATCH = 0
COL_TOKEN_ACCURACY = 1
COL_EDIT_DISTANCE = 2
COL_MULTIPLE_CHOICE = 3
N_COLUMNS = 4


@njit(cache=True, nogil=True)
def standard_normal(s: np.ndarray) -> float:
    """One N(0, 1) draw by the Box–Muller transform of two uniforms (second value discarded).

    Uses 1 - U in the logarithm so the argument lies in (0, 1]. Cost: two stream steps.
    """
    u1 = 1.0 - next_double(s)
    u2 = next_double(s)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, nogil=True)
def levenshtein(a: np.ndarray, b: np.ndarray, row: np.ndarray) -> int:
    """Levenshtein distance between int sequences ``a`` and ``b`` (unit costs).

    Wagner–Fischer dynamic programme with one rolling row (``row`` has len(b) + 1 slots,
    scratch). Cost O(len(a)·len(b)) time, O(len(b)) memory.
    """
    m = b.shape[0]
    for j in range(m + 1):
        row[j] = j
    for i in range(1, a.shape[0] + 1):
        diag = row[0]
        row[0] = i
        ai = a[i - 1]
        for j in range(1, m + 1):
            up = row[j]
            best = diag + (0 if ai == b[j - 1] else 1)
            if up + 1 < best:
                best = up + 1
            if row[j - 1] + 1 < best:
                best = row[j - 1] + 1
            row[j] = best
            diag = up
    return int(row[m])


@njit(cache=True, nogil=True)
def generation_item(
    p: float,
    k: int,
    vocab: int,
    edit: bool,
    s: np.ndarray,
    ref: np.ndarray,
    pred: np.ndarray,
    row: np.ndarray,
) -> tuple[int, int]:
    """Draw one k-token item; return (tokens right, Levenshtein distance).

    With ``vocab = 0`` or ``edit`` false only the k Bernoulli(p) outcomes are drawn and the
    distance is the number of wrong tokens (exact when wrong tokens never occur in the
    reference: any alignment matches at most the right tokens). Otherwise reference and
    predicted tokens are drawn and the distance is computed: O(k²).
    """
    right = 0
    if vocab == 0 or not edit:
        for _ in range(k):
            if next_double(s) < p:
                right += 1
        return right, k - right
    for t in range(k):
        tok = next_below(s, vocab)
        ref[t] = tok
        if next_double(s) < p:
            pred[t] = tok
            right += 1
        else:
            pred[t] = (tok + 1 + next_below(s, vocab - 1)) % vocab
    return right, levenshtein(ref, pred, row)


@njit(cache=True, nogil=True)
def multiple_choice_item(margin: float, options: int, s: np.ndarray) -> bool:
    """Whether the correct option wins one Thurstonian item.

    Standardised totals: correct z_0 + margin, distractors z_j (j = 1..K-1), with
    margin = d·sqrt(k). Cost: K normal draws.
    """
    correct = standard_normal(s) + margin
    win = True
    for _ in range(options - 1):
        if standard_normal(s) >= correct:
            win = False  # keep drawing: the stream's consumption must not depend on outcomes
    return win


@njit(cache=True, nogil=True)
def ability_scores(
    p: np.ndarray,
    margin: np.ndarray,
    k: int,
    items: int,
    vocab: int,
    generation: bool,
    edit: bool,
    options: int,
    states: np.ndarray,
    meter: np.ndarray,
) -> np.ndarray:
    """Benchmark scores of R replicate evaluation sets at every size.

    ``p[i]`` is the per-token accuracy and ``margin[i]`` the multiple-choice margin
    d·sqrt(k) at size i; ``options = 0`` skips the multiple-choice task, ``generation``
    false skips the generation task. Returns float64[R, len(p), 4]: per replicate and size
    the mean over ``items`` of exact match, token accuracy, normalised edit distance and
    multiple-choice correctness (NaN for a task not run). Polls ``meter`` (kernels.meter)
    before each size. Cost O(R·sizes·items·(k + K)),
    O(R·sizes·items·k²) when edit distances are computed with a finite vocabulary.
    """
    n_rep = states.shape[0]
    n_sizes = p.shape[0]
    out = np.full((n_rep, n_sizes, N_COLUMNS), np.nan)
    ref = np.empty(k, dtype=np.int64)
    pred = np.empty(k, dtype=np.int64)
    row = np.empty(k + 1, dtype=np.int64)
    for r in range(n_rep):
        s = states[r]
        if start_replicate(meter, n_sizes):
            return out
        for i in range(n_sizes):
            if at_step(meter, i):
                return out  # cancelled: the caller discards the rows
            exact = 0
            right_total = 0
            dist_total = 0
            wins = 0
            for _ in range(items):
                if generation:
                    right, dist = generation_item(p[i], k, vocab, edit, s, ref, pred, row)
                    right_total += right
                    dist_total += dist
                    if right == k:
                        exact += 1
                if options > 0 and multiple_choice_item(margin[i], options, s):
                    wins += 1
            if generation:
                out[r, i, COL_EXACT_MATCH] = exact / items
                out[r, i, COL_TOKEN_ACCURACY] = right_total / (items * k)
                out[r, i, COL_EDIT_DISTANCE] = dist_total / (items * k)
            if options > 0:
                out[r, i, COL_MULTIPLE_CHOICE] = wins / items
        end_replicate(meter, r)
    return out
