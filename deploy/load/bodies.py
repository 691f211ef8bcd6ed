"""Small request bodies for every compute route of the gateway, shared by the Locust load
test (deploy/load/locustfile.py) and the first-call benchmark (tests/bench/first_call.py).

Each is sized to take milliseconds to a fraction of a second, so a load run measures the
service, not one giant request. Data follow known laws, so every fit converges.
"""

from __future__ import annotations

import math
from typing import Any

_N = [n for n in (7e7, 3e8, 1.2e9, 4e9, 1.6e10) for _ in range(4)]
_D = [5e9, 2e10, 1e11, 5e11] * 5
_SIZES = [1e7 * 10 ** (i / 2) for i in range(11)]
_X = [2.0**i for i in range(12)]

# path -> body (without "seed": the load test adds one, or leaves it out to bypass the cache)
BODIES: dict[str, dict[str, Any]] = {
    "/v1/graphs/sample": {"model": "erdos_renyi", "n": 20_000, "c": 2.0, "replicates": 2},
    "/v1/sweeps": {
        "model": "erdos_renyi",
        "n": 20_000,
        "grid": {"start": 0.0, "stop": 4.0, "points": 20},
        "replicates": 4,
    },
    "/v1/abilities/simulate": {
        "sizes": [1e7, 1e8, 1e9, 1e10, 1e11],
        "k": 8,
        "items": 200,
        "metrics": ["exact_match", "token_accuracy"],
        "replicates": 2,
    },
    "/v1/fits/power-law": {
        "x": _X,
        "y": [10.0 * x**-0.5 * (1 + 0.01 * (-1) ** i) for i, x in enumerate(_X)],
    },
    "/v1/fits/scaling-law": {
        "form": "chinchilla",
        "N": _N,
        "D": _D,
        "loss": [1.69 + 406.4 / n**0.34 + 410.7 / d**0.28 for n, d in zip(_N, _D, strict=True)],
        "predict_C": [1e24],
    },
    "/v1/fits/broken-power-law": {
        "x": _X,
        "y": [5.0 * x**-0.2 * (1 + (x / 64) ** 2) ** (-0.3) for x in _X],
    },
    "/v1/fits/emergence": {
        "scale": _SIZES,
        "score": [1 / (1 + math.exp(-3 * (math.log10(s) - 9.5))) for s in _SIZES],
        "floor": 0.0,
        "items": [500],
        "bootstrap": 20,
    },
    "/v1/abilities/analyze": {
        "scale": [1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11],
        "exact_match": [0.004, 0.03, 0.11, 0.27, 0.45, 0.62, 0.75],
        "token_accuracy": [0.5, 0.64, 0.76, 0.85, 0.91, 0.94, 0.965],
        "k": 8,
        "items": [500],
        "resamples": 100,
    },
}

# Finite-size scaling needs curves at several sizes: sweeps first, then this fit on them.
CRITICAL_POINT_SWEEPS = [
    {
        "model": "square_lattice_site",
        "L": L,
        "grid": {"start": 0.50, "stop": 0.70, "points": 41},
        "replicates": 16,
        "seed": L,
    }
    for L in (16, 32, 64)
]
CRITICAL_POINT = "/v1/fits/critical-point"


def critical_point_body(sweeps: list[dict[str, Any]]) -> dict[str, Any]:
    """The critical-point fit of ``sweeps`` (as /v1/sweeps returned them), 1/nu known."""
    return {"sweeps": sweeps, "one_over_nu": 0.75}
