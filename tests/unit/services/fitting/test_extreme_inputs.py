"""Extreme but well-formed inputs: a fit answers or refuses naming the field, never crashes.

Each case is one that a 304-case fuzz of the gateway turned into a 502 (an unhandled
exception in the service): values at the ends of the float range and a negative holdout.
"""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.chinchilla import fit_chinchilla
from services.fitting.models.critical_point import fit_critical_point
from services.fitting.models.power_law import fit_power_law
from tests.unit.services.fitting.test_critical_point import _scaling_curves

BNSL_X = [160, 256, 384, 512, 576, 640, 736]
BNSL_Y = [2.14, 2.09, 2.05, 2.0, 1.86, 1.51, 0.97]


@pytest.mark.parametrize("value", [1e300, 1e-300, 5e-324])
@pytest.mark.parametrize("index", [0, 1, 2])
def test_broken_power_law_at_the_ends_of_the_float_range(index: int, value: float) -> None:
    y = list(BNSL_Y)
    y[index] = value
    try:
        result = fit_broken_power_law(BNSL_X, y, breaks=1)
    except InvalidArgument as exc:
        assert [v.field for v in exc.violations] == ["y"]
    else:
        assert result.model == "broken_power_law"


def test_a_compute_budget_whose_sixth_underflows_is_refused() -> None:
    n = [n for n in (7e7, 3e8, 1.2e9, 4e9, 1.6e10) for _ in range(4)]
    d = [5e9, 2e10, 1e11, 5e11] * 5
    loss = [1.69 + 406.4 / a**0.34 + 410.7 / b**0.28 for a, b in zip(n, d, strict=True)]
    with pytest.raises(InvalidArgument) as refused:
        fit_chinchilla(n, d, loss, predict_C=[1e21, 5e-324])
    assert [v.field for v in refused.value.violations] == ["predict_C[1]"]


def test_a_negative_holdout_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        fit_power_law([1, 2, 4, 8, 16], [10.0, 5.1, 2.4, 1.26, 0.62], holdout_largest=-1)
    assert [v.field for v in refused.value.violations] == ["holdout_largest"]


@pytest.mark.parametrize("one_over_nu", [1e300, 2147483647.0])
def test_a_fixed_exponent_that_flattens_every_size_is_refused(one_over_nu: float) -> None:
    """s^(-1/nu) is 0 at every size: the line through the peaks is not identifiable."""
    curves = _scaling_curves(1.0, 1 / 3, 1 / 3, 1 / 3)
    with pytest.raises(InvalidArgument) as refused:
        fit_critical_point(curves, one_over_nu=one_over_nu)
    assert [v.field for v in refused.value.violations] == ["one_over_nu"]
