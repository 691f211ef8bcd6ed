"""Validate-only runs: the science functions check a request fully, then stop before any work.

A validate-only ``RunControl`` makes ``begin``/``validated`` raise ``Validated``; a control
that counts the kernel meters it hands out proves no kernel call started. The same request
with a bad field is refused exactly as the full run refuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from services.common import control
from services.common.control import RunControl
from services.common.errors import InvalidArgument, Validated
from services.fitting.emergence import fit_emergence, fit_emergence_batch
from services.fitting.limits import FitLimits
from services.fitting.mirage import analyze_mirage
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.chinchilla import fit_chinchilla
from services.fitting.models.critical_point import SweepCurve, fit_critical_point
from services.fitting.models.kaplan import fit_kaplan
from services.fitting.models.power_law import fit_power_law
from services.simulation.abilities import simulate_abilities
from services.simulation.graphs import sample_graph
from services.simulation.limits import Limits


class CountingControl(RunControl):
    """A validate-only control that counts the kernel meters asked of it."""

    def __init__(self) -> None:
        super().__init__(validate_only=True)
        self.meters = 0

    def meter(self, count: int) -> tuple[int, np.ndarray]:
        self.meters += 1
        return super().meter(count)


def test_a_plain_control_is_not_validate_only() -> None:
    ctl = RunControl()
    ctl.begin(5)  # no signal: the run goes on
    assert ctl.total == 5


def test_sample_graph_stops_after_validation_before_any_kernel() -> None:
    ctl = CountingControl()
    # Large but within the limits: a full run would take minutes.
    with pytest.raises(Validated):
        sample_graph(
            "erdos_renyi", n=1_000_000, c=1.0, replicates=1_000, seed=1,
            limits=Limits(), control=ctl,
        )  # fmt: skip
    assert ctl.meters == 0 and ctl.total == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 1, "c": 1.0}, "n"),  # n >= 2
        ({"n": Limits().max_nodes + 1, "c": 1.0}, "n"),  # over the configured limit
        ({"n": 1000, "c": 1.0, "replicates": Limits().max_replicates + 1}, "replicates"),
    ],
)
def test_sample_graph_refusals_are_the_same_in_validate_only(
    kwargs: dict[str, Any], field: str
) -> None:
    refusals = []
    for ctl in (CountingControl(), RunControl()):
        with pytest.raises(InvalidArgument) as caught:
            sample_graph("erdos_renyi", seed=1, limits=Limits(), control=ctl, **kwargs)
        refusals.append([v.field for v in caught.value.violations])
    assert refusals[0] == refusals[1] and field in refusals[0]


def test_simulate_abilities_stops_after_validation() -> None:
    ctl = CountingControl()
    with pytest.raises(Validated):
        simulate_abilities(
            [1e8, 1e9, 1e10], k=32, items=100_000, replicates=100, seed=3, control=ctl
        )
    assert ctl.meters == 0
    with pytest.raises(InvalidArgument) as caught:
        simulate_abilities([1e8], k=0, items=10, control=CountingControl())
    assert caught.value.violations[0].field == "k"


@pytest.fixture
def validate_only() -> Iterator[CountingControl]:
    """A validate-only control bound to this thread, as the gRPC adapter binds it."""
    ctl = CountingControl()
    control.bind(ctl)
    yield ctl
    control.bind(None)


X = np.geomspace(1e6, 1e10, 12)
Y = 3.0 * X**-0.3 * (1.0 + 0.01 * np.sin(np.arange(12)))
SIZES = [1e8, 3e8, 1e9, 3e9, 1e10, 3e10]


def _curves() -> list[SweepCurve]:
    grid = list(np.linspace(0.4, 0.8, 9))
    return [
        SweepCurve(s, grid, list(np.linspace(0, 1, 9)), [1.0, 2, 4, 8, 9, 8, 4, 2, 1])
        for s in (16, 32, 64, 128)
    ]


# Each fit with valid inputs and the most resampling the limits allow (a full run is long).
FITS: dict[str, Callable[[], Any]] = {
    "power_law": lambda: fit_power_law(X, Y, bootstrap=1000),
    "broken_power_law": lambda: fit_broken_power_law(X, Y, bootstrap=1000),
    "kaplan": lambda: fit_kaplan(Y, N=X, bootstrap=1000),
    "chinchilla": lambda: fit_chinchilla(X, X[::-1] * 20, Y, bootstrap=1000),
    "critical_point": lambda: fit_critical_point(_curves(), bootstrap=1000),
    "emergence": lambda: fit_emergence(SIZES, [0, 0, 0.01, 0.3, 0.8, 0.9], bootstrap=1000),
    "emergence_batch": lambda: fit_emergence_batch(
        [{"scale": SIZES, "score": [0, 0, 0.01, 0.3, 0.8, 0.9]}], bootstrap=1000
    ),
    "mirage": lambda: analyze_mirage(
        SIZES,
        [0, 0, 0.01, 0.3, 0.8, 0.9],
        k=4,
        items=100,
        resamples=1000,
        token_accuracy=[0.3, 0.4, 0.5, 0.7, 0.9, 0.95],
    ),
}


@pytest.mark.parametrize("name", sorted(FITS))
def test_every_fit_stops_after_validation(name: str, validate_only: CountingControl) -> None:
    with pytest.raises(Validated):
        FITS[name]()


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: fit_power_law([1.0, 2.0], [1.0, 0.5]), "x"),  # too few points
        (lambda: fit_power_law(X, Y, bootstrap=1001), "bootstrap"),  # over the limit
        (lambda: fit_power_law(X, Y, holdout_largest=-1), "holdout_largest"),
        (lambda: fit_kaplan(Y, N=X, holdout_largest=-2), "holdout_largest"),
        (lambda: fit_emergence([1e8, 1e9, 1e10], [0.1, 0.2, 1.5]), "score[2]"),
        (lambda: fit_critical_point(_curves()[:2]), "curves"),
    ],
)
def test_fit_refusals_come_before_the_signal(
    call: Callable[[], Any], field: str, validate_only: CountingControl
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        call()
    assert caught.value.violations[0].field == field
    control.bind(None)  # the full run refuses the same field
    with pytest.raises(InvalidArgument) as full:
        call()
    assert [v.field for v in full.value.violations] == [v.field for v in caught.value.violations]


def test_limits_are_the_configured_ones(validate_only: CountingControl) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fit_power_law(X, Y, bootstrap=11, limits=FitLimits(max_bootstrap=10))
    assert caught.value.violations[0].field == "bootstrap"
