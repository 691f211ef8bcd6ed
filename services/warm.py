"""Compile every numba kernel of both services into NUMBA_CACHE_DIR: ``python -m services.warm``.

The container image runs this at build time, so that services started from it load their
kernels from the cache (see services.common.jitcache) instead of compiling them. On an
empty cache it also checks that the services' warm-ups leave no kernel uncompiled (one
would be compiled by a first request instead) and exits 1 if one does.
"""

from __future__ import annotations

import sys
import time

from services.common.jitcache import COLD_MESSAGE, is_cold, prepare_cache

# Kernels no route runs: the tests and benchmarks call them as independent references
# (a single-stream G(n, p) and its edge list, component sizes of a given edge list).
NOT_SERVED = frozenset(
    {
        "services.simulation.kernels.direct.gnp_into_forest",
        "services.simulation.kernels.direct.gnp_split_edges",
        "services.simulation.kernels.unionfind.component_sizes",
    }
)


def main() -> int:
    cache = prepare_cache()
    if cache is None:
        raise SystemExit("set NUMBA_CACHE_DIR to the directory the kernels are compiled into")
    cold = is_cold(cache.path)
    print(f"kernel cache {cache}: {COLD_MESSAGE if cold else 'checking'}", flush=True)
    import services
    from services.common.jitcache import count_kernels, standalone_kernels
    from services.fitting.warmup import warm_kernels as warm_fitting
    from services.simulation.warmup import warm_kernels as warm_simulation

    started = time.perf_counter()
    warm_simulation()
    warm_fitting()
    print(f"kernels ready in {time.perf_counter() - started:.1f} s ({count_kernels()})")
    # From a warm cache only the kernels called from Python are loaded; from a cold one
    # every kernel a warm-up reaches is compiled, so the rest is what no warm-up covers.
    kernels = {f"{k.py_func.__module__}.{k.py_func.__name__}": k
               for k in standalone_kernels(services)}  # fmt: skip
    missed = [name for name, k in kernels.items() if not k.signatures and name not in NOT_SERVED]
    if cold and missed:
        print(f"not compiled by any warm-up: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
