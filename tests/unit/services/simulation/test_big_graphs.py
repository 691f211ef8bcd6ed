"""n = 10^8 on one machine agrees with the mean-field giant component S(c) (Lambert W).

Opt-in (about a minute and 0.4 GB a replicate): ``ZUHUR_TEST_BIG=1 pytest -m bigmem``.
At n = 10^8 the spread of S between realizations is ~ sqrt(S(1-S)/n)·O(1) ~ 1e-4 away
from the threshold, so 1e-3 is a real test of the sampler, not of the noise.
"""

from __future__ import annotations

import os

import pytest

from services.simulation.graphs import sample_graph
from services.simulation.limits import Limits
from services.simulation.theory import er_giant_fraction

pytestmark = [
    pytest.mark.bigmem,
    pytest.mark.skipif(
        os.environ.get("ZUHUR_TEST_BIG") != "1", reason="n = 10^8: set ZUHUR_TEST_BIG=1"
    ),
]


@pytest.mark.parametrize("c", [1.5, 3.0])
def test_giant_component_at_n_1e8_matches_theory(c: float) -> None:
    n = 10**8
    result = sample_graph(n=n, c=c, seed=2026, limits=Limits(max_nodes=n), max_workers=2)
    theory = float(er_giant_fraction(c)[0])
    assert abs(result.largest_fraction.mean - theory) < 1e-3
    assert abs(result.replicates[0].edges / (c * n / 2) - 1) < 1e-3  # ~ c·n/2 edges drawn
