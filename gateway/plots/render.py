"""Which renderer draws which upstream method's result, and the one entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.plots.abilities import abilities_svg, mirage_svg
from gateway.plots.fits import emergence_batch_svg, emergence_svg, scaling_law_svg
from gateway.plots.percolation import critical_point_svg, sample_svg, sweeps_svg

SVG = "image/svg+xml"
Renderer = Callable[[dict[str, Any], dict[str, Any] | None], bytes]

RENDERERS: dict[str, Renderer] = {
    "Sweep": lambda result, request: sweeps_svg([result]),
    "SampleGraph": sample_svg,
    "FitScalingLaw": scaling_law_svg,
    "FitPowerLaw": scaling_law_svg,
    "FitBrokenPowerLaw": scaling_law_svg,
    "FitEmergence": emergence_svg,
    "FitEmergenceBatch": emergence_batch_svg,
    "FitCriticalPoint": critical_point_svg,
    "SimulateAbilities": abilities_svg,
    "AnalyzeMirage": mirage_svg,
}


def svg_for(method: str, result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """The SVG picture of ``method``'s result JSON (``request``: the body it answered, for
    the data a result does not repeat); KeyError for a method without a picture."""
    return RENDERERS[method](result, request)
