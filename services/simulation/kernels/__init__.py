"""Pure numba kernels: typed arrays in, typed arrays out, no Python objects, no gRPC."""
