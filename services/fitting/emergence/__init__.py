"""Emergence verdicts for score-against-scale series (``FitEmergence``, the batch form).

``series`` validates, ``laws`` fits, ``evidence`` computes the tests, ``verdict`` decides,
``descriptive`` adds BIG-bench's statistics, ``fit`` assembles one result and ``batch``
answers whole tables; ``binomial`` and ``shapes`` are shared helpers (``mirage`` too).
"""

from services.fitting.emergence.batch import SeriesOutcome, fit_emergence_batch
from services.fitting.emergence.fit import EmergenceResult, fit_emergence
from services.fitting.emergence.shapes import width_decades

__all__ = [
    "EmergenceResult",
    "SeriesOutcome",
    "fit_emergence",
    "fit_emergence_batch",
    "width_decades",
]
