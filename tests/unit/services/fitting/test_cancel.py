"""A fit on a thread bound to a cancelled request stops at its next budget check."""

from __future__ import annotations

import numpy as np
import pytest

from services.common import control
from services.common.control import RunControl
from services.common.errors import Cancelled
from services.fitting.bootstrap import bootstrap
from services.fitting.limits import TimeBudget


def test_a_bootstrap_stops_once_its_request_is_cancelled() -> None:
    ctl = RunControl()
    fitted: list[int] = []

    def fit(rows: np.ndarray) -> np.ndarray:
        fitted.append(len(rows))
        if len(fitted) == 3:
            ctl.cancel()  # the client hangs up while the third resample is fitted
        return np.array([rows.mean()])

    control.bind(ctl)
    try:
        budget = TimeBudget(60.0)
        with pytest.raises(Cancelled):
            bootstrap(fit, 10, 1000, seed=1, budget=budget)
    finally:
        control.bind(None)
    assert len(fitted) == 3  # not the 1000 asked for


def test_an_unbound_budget_runs_to_the_end() -> None:
    samples = bootstrap(lambda rows: np.array([rows.mean()]), 10, 50, 1, budget=TimeBudget(60))
    assert samples.samples.shape == (50, 1) and samples.failed == 0
