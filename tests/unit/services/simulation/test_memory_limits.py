"""Bigger graphs on one machine: the node ceiling, and requests over the memory budget
refused up front (naming the size field) with the kernels' real bytes per node."""

from __future__ import annotations

import pytest

from services.common.control import RunControl
from services.common.errors import LimitExceeded
from services.simulation.config import SimulationSettings
from services.simulation.graphs import sample_graph
from services.simulation.limits import NODES_CEILING, Limits
from services.simulation.sweeps import Grid, sweep


def test_max_nodes_is_configurable_up_to_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Limits().max_nodes == 10**8
    monkeypatch.setenv("ZUHUR_SIMULATION_LIMITS__MAX_NODES", str(10**9))
    assert SimulationSettings().limits.max_nodes == NODES_CEILING == 10**9
    monkeypatch.setenv("ZUHUR_SIMULATION_LIMITS__MAX_NODES", str(2 * 10**9))
    with pytest.raises(ValueError, match="max_nodes"):
        SimulationSettings()


def test_a_request_over_the_memory_budget_is_refused_before_it_runs() -> None:
    # 10^8 nodes at 8 B each on two threads (2 replicates at once) is 1.6 GB: over 1 GiB.
    limits = Limits(max_memory_bytes=2**30)
    control = RunControl()
    with pytest.raises(LimitExceeded) as err:
        sweep(n=10**8, grid=Grid(1.0, 1.0, 1), replicates=2, seed=1, limits=limits,
              max_workers=2, control=control)  # fmt: skip
    assert control.total == 0 and control.done() == 0  # refused by the plan: nothing began
    (violation,) = err.value.violations
    assert violation.field == "n" and "estimated memory" in violation.description
    assert "1.6e+09" in violation.description
    with pytest.raises(LimitExceeded) as err:
        sample_graph("square_lattice_bond", L=4096, p=0.5, seed=1, limits=Limits(
            max_memory_bytes=2**28))  # fmt: skip
    assert err.value.violations[0].field == "L"  # 28 B × 1.7e7 sites = 470 MB


def test_one_replicate_fits_where_two_at_once_would_not() -> None:
    limits = Limits(max_memory_bytes=3 * 10**6)  # 2 × 8 B × 2·10^5 = 3.2 MB; one is 1.6 MB
    with pytest.raises(LimitExceeded):
        sweep(n=200_000, grid=Grid(1.0, 1.0, 1), replicates=2, seed=1, limits=limits,
              max_workers=2)  # fmt: skip
    result = sweep(n=200_000, grid=Grid(1.0, 1.0, 1), replicates=2, seed=1, limits=limits)
    assert result.replicates == 2


def test_cluster_limits_apply_only_while_a_scheduler_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZUHUR_SIMULATION_CLUSTER_LIMITS__MAX_REPLICATES", "1000000")
    assert SimulationSettings().effective_limits() == Limits()  # no cluster: the plain limits
    monkeypatch.setenv("ZUHUR_SIMULATION_DASK_SCHEDULER", "tcp://127.0.0.1:8786")
    limits = SimulationSettings().effective_limits()
    assert limits == Limits(max_replicates=1_000_000)  # the rest keep their defaults
    sweep(n=10, grid=Grid(1.0, 1.0, 1), replicates=Limits().max_replicates + 1, seed=1,
          limits=limits)  # fmt: skip
    with pytest.raises(LimitExceeded):
        sweep(n=10, grid=Grid(1.0, 1.0, 1), replicates=Limits().max_replicates + 1, seed=1)
    monkeypatch.delenv("ZUHUR_SIMULATION_CLUSTER_LIMITS__MAX_REPLICATES")
    assert SimulationSettings().effective_limits() == Limits()  # cluster, no cluster limits
