"""JIT warm-up of the fitting service: every numba kernel (the Chinchilla objective) compiled
or loaded from the cache, and scipy's import costs paid, before the service reports SERVING.
"""

from __future__ import annotations

import numpy as np

from services.fitting.limits import TimeBudget
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.chinchilla import fit_chinchilla
from services.fitting.models.power_law import fit_power_law


def _chinchilla_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 3 x 3 (N, D) grid on the Hoffmann et al. (2022) law: L = E + A/N^alpha + B/D^beta."""
    n, d = (a.ravel() for a in np.meshgrid([1e8, 1e9, 1e10], [1e9, 1e10, 1e11]))
    return n, d, 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28


def warm_kernels() -> None:
    """One tiny fit of each kind that runs numba kernels (grid screening, Newton polish), and
    of the broken power law (its first fit pays ~0.5 s of scipy set-up otherwise).

    Without a time budget: a cold compile on a busy machine may take longer than a fit may.
    """
    unbounded = TimeBudget(float("inf"))
    fit_power_law([1.0, 2.0, 4.0, 8.0], [8.0, 4.1, 1.9, 1.02], budget=unbounded)
    fit_chinchilla(*_chinchilla_points(), polish_starts=2, predict_C=[1e21], budget=unbounded)
    x = np.geomspace(1.0, 2048.0, 12)
    fit_broken_power_law(x, 5.0 * x**-0.2 * (1 + (x / 64) ** 2) ** -0.3, budget=unbounded)
