"""Mean-field (tree-like, n → ∞) giant-component fractions to draw beside simulated curves.

Erdős–Rényi: S(c) = 1 + W₀(-c e^-c)/c (0 for c <= 1). Configuration model with bond
occupation φ (Callaway et al. 2000): u = 1 - φ + φ G₁(u), S = 1 - G₀(u), with G₀ the
degree generating function and G₁ = G₀'/G₀'(1); the threshold is φ_c = <k>/(<k²> - <k>).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special

from services.simulation.models import DegreeDistribution, degree_pmf

# Known thresholds of the square lattice (Newman & Ziff 2000; Kesten 1980).
SQUARE_SITE_THRESHOLD = 0.592746050792
SQUARE_BOND_THRESHOLD = 0.5


def er_giant_fraction(c: ArrayLike) -> np.ndarray:
    """S(c) of G(n, c/n) as n → ∞, elementwise; 0 at and below c = 1."""
    cs = np.atleast_1d(np.asarray(c, dtype=np.float64))
    out = np.zeros_like(cs)
    above = cs > 1.0
    ca = cs[above]
    out[above] = 1.0 + special.lambertw(-ca * np.exp(-ca)).real / ca
    return out


def configuration_giant_fraction(degrees: DegreeDistribution, phi: ArrayLike) -> np.ndarray:
    """S(φ) of bond percolation on a configuration model with this degree law, elementwise."""
    ks, pmf = degree_pmf(degrees)
    kf = ks.astype(np.float64)
    mean = float(np.dot(kf, pmf))
    phis = np.atleast_1d(np.asarray(phi, dtype=np.float64))
    out = np.zeros_like(phis)
    if mean <= 0.0:
        return out
    q = kf * pmf / mean  # excess-degree law: G1(x) = Σ q_k x^(k-1)
    ex = np.maximum(kf - 1.0, 0.0)
    g1_slope = float(np.dot(q, ex))  # G1'(1)

    def g0(x: float) -> float:
        return float(np.dot(pmf, np.power(x, kf)))

    def g1(x: float) -> float:
        return float(np.dot(q, np.power(x, ex)))

    for i, f in enumerate(phis):
        if f * g1_slope <= 1.0:
            continue  # at or below threshold: only the trivial root u = 1

        def gap(u: float, f: float = f) -> float:
            return 1.0 - f + f * g1(u) - u

        top = 1.0 - 1e-3
        while gap(top) >= 0.0 and top < 1.0 - 1e-15:
            top = 1.0 - (1.0 - top) / 10.0
        if gap(top) >= 0.0:
            continue  # root indistinguishable from 1 in double precision
        u = 0.0 if gap(0.0) <= 0.0 else optimize.brentq(gap, 0.0, top, xtol=1e-15)
        out[i] = 1.0 - g0(u)
    return out
