"""Edge lists of small Erdős–Rényi samples: the very graphs the statistics come from."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from services.common.errors import InvalidArgument
from services.simulation.graphs import sample_graph
from services.simulation.protomap import sample_response


@pytest.mark.parametrize("c", [0.25, 2.5, 4.0])
def test_edge_lists_are_the_graphs_whose_components_are_reported(c: float) -> None:
    n = 50
    result = sample_graph(n=n, c=c, replicates=3, seed=11, edge_lists=True)
    assert len(result.edge_lists) == 3
    for stats, edges in zip(result.replicates, result.edge_lists, strict=True):
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(map(tuple, edges.tolist()))
        sizes = sorted((len(cc) for cc in nx.connected_components(g)), reverse=True)
        assert g.number_of_edges() == stats.edges == len(edges)  # simple graph
        assert sizes[0] == stats.largest and [*sizes, 0][1] == stats.second_largest
        assert len(sizes) == stats.components
    # threads change nothing: the same graphs on 2 workers
    threaded = sample_graph(n=n, c=c, replicates=3, seed=11, edge_lists=True, max_workers=2)
    for a, b in zip(result.edge_lists, threaded.edge_lists, strict=True):
        assert np.array_equal(a, b)


def test_edge_lists_travel_flattened_in_the_response() -> None:
    result = sample_graph(n=20, c=3.0, replicates=2, seed=1, edge_lists=True)
    reply = sample_response(result)
    for rep, edges in zip(reply.replicates, result.edge_lists, strict=True):
        assert list(rep.edge_list) == edges.ravel().tolist()
    plain = sample_response(sample_graph(n=20, c=3.0, replicates=2, seed=1))
    assert all(len(rep.edge_list) == 0 for rep in plain.replicates)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": "square_lattice_site", "L": 8, "p": 0.5}, "erdos_renyi only"),
        ({"n": 2001, "c": 1.0}, "n <= 2000"),
        ({"n": 2000, "c": 50.0, "replicates": 10}, "expected edges"),
    ],
)
def test_edge_lists_are_refused_beyond_small_er_graphs(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        sample_graph(**kwargs, seed=1, edge_lists=True)  # type: ignore[arg-type]
    assert "edge_lists" in str(err.value) and message in str(err.value)
