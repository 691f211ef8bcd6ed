"""The simulation service: numba kernels for random graphs and ability curves."""

# Results are a pure function of (request, seed, ENGINE_VERSION): bump it whenever a
# kernel's output for the same request and seed changes (it is part of every cache key).
ENGINE_VERSION = "sim-0.3.0"  # 0.3: sweep sums vectorized (last-digit changes)
