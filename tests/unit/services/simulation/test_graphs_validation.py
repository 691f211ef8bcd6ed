"""SampleGraph rejects bad input with InvalidArgument / LimitExceeded naming the field."""

from __future__ import annotations

import math
from typing import Any

import pytest

from services.common.errors import InvalidArgument, LimitExceeded
from services.simulation.graphs import sample_graph
from services.simulation.limits import Limits
from services.simulation.models import DegreeDistribution


def violated_field(**kwargs: Any) -> str:
    kwargs.setdefault("seed", 1)
    with pytest.raises(InvalidArgument) as info:
        sample_graph(**kwargs)
    assert len(info.value.violations) == 1
    return info.value.violations[0].field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 1, "p": 0.5}, "n"),
        ({"n": -5, "c": 1.0}, "n"),
        ({"n": 10.5, "c": 1.0}, "n"),
        ({"n": 100, "p": 1.5}, "p"),
        ({"n": 100, "p": -0.1}, "p"),
        ({"n": 100, "p": math.nan}, "p"),
        ({"n": 100, "c": math.inf}, "c"),
        ({"n": 100, "c": -1.0}, "c"),
        ({"n": 100, "c": 1.0, "p": 0.1}, "c"),
        ({"n": 100}, "p"),
        ({"n": 100, "c": 1.0, "replicates": 0}, "replicates"),
        ({"n": 100, "c": 1.0, "seed": -1}, "seed"),
        ({"n": 100, "c": 1.0, "m": 5}, "m"),
        ({"model": "small_world", "n": 100, "c": 1.0}, "model"),
        ({"model": "erdos_renyi_gnm", "n": 10, "m": 46}, "m"),
        ({"model": "square_lattice_site", "n": 100, "p": 0.5}, "L"),
        ({"model": "square_lattice_bond", "L": 16, "p": 0.5, "n": 256}, "n"),
        ({"model": "square_lattice_bond", "L": 16}, "p"),
        ({"model": "configuration", "n": 100}, "degrees"),
        (
            {"model": "configuration", "n": 100, "degrees": DegreeDistribution("zipf")},
            "degrees.kind",
        ),
        (
            {"model": "configuration", "n": 101, "degrees": DegreeDistribution("regular", k=3)},
            "degrees.k",
        ),
        (
            {"model": "configuration", "n": 100, "degrees": DegreeDistribution("poisson", k=3)},
            "degrees.k",
        ),
        (
            {
                "model": "configuration",
                "n": 100,
                "degrees": DegreeDistribution("power_law", gamma=2.5, k_min=5, k_max=3),
            },
            "degrees.k_max",
        ),
        (
            {
                "model": "configuration",
                "n": 100,
                "phi": 1.2,
                "degrees": DegreeDistribution("poisson", mean=2.0),
            },
            "phi",
        ),
    ],
)
def test_bad_fields_are_named(kwargs: dict[str, Any], field: str) -> None:
    assert violated_field(**kwargs) == field


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"n": 1001, "c": 1.0}, "n", "1000"),
        ({"n": 100, "c": 1.0, "replicates": 11}, "replicates", "10"),
        ({"n": 500, "c": 1.0, "replicates": 10}, "replicates", "work"),
        ({"n": 1000, "p": 1.0}, "n", "edges"),
        ({"model": "square_lattice_site", "L": 65, "p": 0.5}, "L", "64"),
    ],
)
def test_limits_are_refused_naming_the_limit(
    kwargs: dict[str, Any], field: str, words: str
) -> None:
    limits = Limits(
        max_nodes=1000, max_side=64, max_replicates=10, max_edges=100_000, max_work=4000
    )
    with pytest.raises(LimitExceeded) as info:
        sample_graph(**kwargs, seed=1, limits=limits)
    (violation,) = info.value.violations
    assert violation.field == field
    assert words in violation.description
