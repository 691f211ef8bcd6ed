"""Simulation service settings (env prefix ZUHUR_SIMULATION_) and its work limits."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.config import ServiceSettings
from services.simulation.abilities import AbilityLimits
from services.simulation.limits import Limits


class SimulationSettings(ServiceSettings):
    """Transport settings plus the engine's limits, e.g. ZUHUR_SIMULATION_LIMITS__MAX_NODES."""

    model_config = SettingsConfigDict(env_prefix="ZUHUR_SIMULATION_", env_nested_delimiter="__")

    port: int = 50051
    metrics_port: int = 9101
    limits: Limits = Field(default_factory=Limits)
    ability_limits: AbilityLimits = Field(default_factory=AbilityLimits)
    # Scale-out: requests of at least dask_min_replicates replicates run as Dask tasks on
    # the cluster of this scheduler (e.g. tcp://dask-scheduler:8786), cut into dask_batches
    # contiguous replicate blocks (0: 4 per worker thread). Unset: threads here (cluster.py).
    dask_scheduler: str | None = None
    dask_min_replicates: int = Field(default=8, ge=1)
    dask_batches: int = Field(default=0, ge=0)
    dask_connect_seconds: float = Field(default=10.0, gt=0)
    # a scheduler silent this long mid-run (hung, or cut off with its TCP connection open)
    # counts as lost: the run's missing blocks go to local threads
    dask_silent_seconds: float = Field(default=15.0, gt=0)
    # Limits in force instead of ``limits`` while a scheduler is configured (the work is
    # spread over its workers), e.g. ZUHUR_SIMULATION_CLUSTER_LIMITS__MAX_REPLICATES; unset:
    # ``limits``. One realization still runs on one machine (and on the service's threads
    # when the cluster is lost), so keep max_nodes and max_memory_bytes to what one holds.
    cluster_limits: Limits | None = None

    def effective_limits(self) -> Limits:
        """The limits requests are checked against: ``cluster_limits`` with a scheduler."""
        if self.dask_scheduler and self.cluster_limits is not None:
            return self.cluster_limits
        return self.limits
