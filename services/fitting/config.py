"""Fitting service settings (env prefix ZUHUR_FITTING_) and its work limits."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.config import ServiceSettings
from services.fitting.limits import FitLimits


class FittingSettings(ServiceSettings):
    """Transport settings plus fit limits, e.g. ZUHUR_FITTING_LIMITS__MAX_POINTS."""

    model_config = SettingsConfigDict(env_prefix="ZUHUR_FITTING_", env_nested_delimiter="__")

    port: int = 50052
    metrics_port: int = 9102
    limits: FitLimits = Field(default_factory=FitLimits)
