"""Zuhur back-end services: simulation (numba kernels) and fitting (numpy/scipy)."""
