"""Erdős–Rényi direct sampling against theory, published values and networkx (issue 2)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import networkx as nx
import numpy as np
import pytest
from scipy import special, stats

from services.simulation.graphs import component_sizes, sample_graph
from services.simulation.kernels import direct
from services.simulation.kernels.rng import substream_states


def giant_fraction(c: float) -> float:
    """S(c) = 1 + W(-c e^-c)/c, the ER giant-component fraction (independent of our code)."""
    return float(1.0 + special.lambertw(-c * np.exp(-c)).real / c)


def test_theory_constant_is_the_published_one() -> None:
    assert giant_fraction(2.0) == pytest.approx(0.7968121300200198, abs=1e-12)


@pytest.mark.parametrize("c", [1.5, 2.0, 3.0])
def test_largest_fraction_matches_lambert_w_at_n_1e5(c: float) -> None:
    reps = 24
    res = sample_graph(n=100_000, c=c, replicates=reps, seed=2024)
    se = res.largest_fraction.std / np.sqrt(reps - 1)
    assert abs(res.largest_fraction.mean - giant_fraction(c)) <= max(3 * se, 1e-3)


@pytest.mark.slow
@pytest.mark.parametrize(("c", "expected"), [(0.25, 3.04), (2.5, 44.80), (4.0, 49.16)])
def test_mean_largest_component_at_n_50_matches_igraph_values(c: float, expected: float) -> None:
    res = sample_graph(n=50, c=c, replicates=10_000, seed=11)
    assert res.table[:, 1].mean() == pytest.approx(expected, abs=0.1)


def test_component_sizes_equal_networkx_on_the_same_edge_list() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    edges = rng.integers(0, n, size=(2400, 2))  # self-loops and duplicates included
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, edges))
    expected = sorted((len(cc) for cc in nx.connected_components(g)), reverse=True)
    assert component_sizes(n, edges).tolist() == expected


@pytest.mark.parametrize("c", [0.5, 1.0, 2.5])
def test_sampler_statistics_equal_networkx_on_the_sampled_graph(c: float) -> None:
    n = 5000
    p = c / (n - 1)
    edges = direct.gnp_split_edges(n, p, substream_states(3, 0, 1, direct.GNP_PARTS)[0])
    assert np.all(edges[:, 1] < edges[:, 0]) and np.all(edges[:, 1] >= 0)
    assert len({(int(a), int(b)) for a, b in edges}) == len(edges)  # simple graph
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, edges))
    sizes = sorted((len(cc) for cc in nx.connected_components(g)), reverse=True)
    serial = sample_graph(n=n, p=p, seed=3).replicates[0]
    # one replicate on two threads: parts drawn into separate forests, then merged
    split = sample_graph(n=n, p=p, seed=3, max_workers=2).replicates[0]
    for row in (serial, split):
        assert (row.edges, row.largest, row.second_largest, row.components) == (
            g.number_of_edges(),
            sizes[0],
            sizes[1],
            len(sizes),
        )


def test_pair_numbering_walks_every_pair_once_in_order() -> None:
    for n in (2, 3, 9, 40):
        pairs = [(v, w) for v in range(1, n) for w in range(v)]
        assert [direct.pair_at(k, n) for k in range(len(pairs) + 1)] == [*pairs, (n, 0)]
    # p = 1: the parts together take every pair exactly once
    edges = direct.gnp_split_edges(40, 1.0, substream_states(1, 0, 1, direct.GNP_PARTS)[0])
    assert sorted(map(tuple, edges.tolist())) == [(v, w) for v in range(1, 40) for w in range(v)]


def test_threaded_parts_give_the_components_of_the_union_of_part_edge_lists() -> None:
    n, p, parts = 20_000, 1.5 / 19_999, direct.GNP_PARTS
    states = substream_states(8, 0, 1, parts)[0]
    ptr = np.empty(n, dtype=np.int32)
    counts = [direct.gnp_part_forest(ptr, p, parts, states[0].copy())]
    for k in range(1, parts):
        counts.append(
            direct.link_edges(ptr, direct.gnp_part_edges(n, p, k, parts, states[k].copy()))
        )
    row = direct.stats_row(ptr, sum(counts))
    edges = direct.gnp_split_edges(n, p, states.copy())
    sizes = component_sizes(n, edges)
    assert row.tolist() == [len(edges), sizes[0], sizes[1], len(sizes)]
    # equal shares of the pairs: each part's edge count is Binomial(pairs / parts, p)
    mean = len(edges) / parts
    assert all(abs(c - mean) < 5 * np.sqrt(mean) for c in counts)


def test_edge_counts_follow_the_binomial_law() -> None:
    n, p, reps = 120, 0.07, 4000
    pairs = n * (n - 1) // 2
    counts = sample_graph(n=n, p=p, replicates=reps, seed=99).table[:, 0]
    law = stats.binom(pairs, p)
    # chi-square goodness of fit on bins with at least ~20 expected counts each
    edges = np.unique(law.ppf(np.linspace(0, 1, 41)[1:-1]))
    observed = np.bincount(np.searchsorted(edges, counts, side="right"), minlength=len(edges) + 1)
    cdf = law.cdf(edges)
    expected = reps * np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    chi2 = stats.chisquare(observed, expected)
    assert chi2.pvalue > 1e-3
    assert np.var(counts, ddof=1) == pytest.approx(law.var(), rel=0.1)


def test_extreme_probabilities_give_empty_and_complete_graphs() -> None:
    empty = sample_graph(n=40, p=0.0, seed=1).replicates[0]
    full = sample_graph(n=40, p=1.0, seed=1).replicates[0]
    assert (empty.edges, empty.largest, empty.components) == (0, 1, 40)
    assert (full.edges, full.largest, full.second_largest, full.components) == (780, 40, 0, 1)


def test_gnm_has_exactly_m_edges_and_matches_gnp_giant() -> None:
    n, c = 20_000, 2.0
    res = sample_graph("erdos_renyi_gnm", n=n, m=int(c * n / 2), replicates=8, seed=4)
    assert set(res.table[:, 0].tolist()) == {int(c * n / 2)}
    se = res.largest_fraction.std / np.sqrt(7)
    assert abs(res.largest_fraction.mean - giant_fraction(c)) <= max(3 * se, 2e-3)


def test_threads_and_batches_do_not_change_a_single_bit() -> None:
    kwargs: dict[str, Any] = {"n": 4000, "c": 1.2, "replicates": 37, "seed": 123}
    serial = sample_graph(**kwargs).table
    with ThreadPoolExecutor(max_workers=3) as pool:
        pooled = sample_graph(**kwargs, executor=pool).table
    private = sample_graph(**kwargs, max_workers=2).table
    assert serial.tobytes() == pooled.tobytes() == private.tobytes()
    # fewer replicates than threads: each replicate's parts run on separate threads
    few = {**kwargs, "replicates": 2}
    with ThreadPoolExecutor(max_workers=3) as pool:
        split = sample_graph(**few, executor=pool).table
    assert split.tobytes() == serial[:2].tobytes()
    assert sample_graph(**{**few, "replicates": 1}, max_workers=2).table.tobytes() == (
        serial[:1].tobytes()
    )
    # replicate r is a function of (seed, r) only: a 5-replicate request is a prefix
    assert sample_graph(**{**kwargs, "replicates": 5}).table.tobytes() == serial[:5].tobytes()


_DIGEST = (
    "import hashlib; from services.simulation.graphs import sample_graph; "
    "r = sample_graph(n=30000, c=2.0, replicates=6, seed=7, max_workers={w}); "
    "print(hashlib.sha256(r.table.tobytes()).hexdigest(), r.largest_fraction)"
)


def test_same_seed_same_bytes_with_one_and_two_numba_threads() -> None:
    digests = []
    for threads, workers in [("1", 1), ("2", 2)]:
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST.format(w=workers)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=240,
        )
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]
    local = sample_graph(n=30000, c=2.0, replicates=6, seed=7)
    assert digests[0].split()[0] == hashlib.sha256(local.table.tobytes()).hexdigest()
