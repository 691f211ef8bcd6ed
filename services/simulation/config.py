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
    # Scale-out: fan sweeps of at least fanout_min_replicates replicates out over the
    # replicas behind this target (e.g. dns:///simulation:50051) in fanout_batches batches.
    fanout_target: str | None = None
    fanout_batches: int = Field(default=4, ge=1)
    fanout_min_replicates: int = Field(default=8, ge=2)
    fanout_deadline_seconds: float = 600.0
