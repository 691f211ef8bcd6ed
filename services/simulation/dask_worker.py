"""Dask worker preload (``dask worker --preload services.simulation.dask_worker``): make the
image's read-only kernel cache usable and load every kernel before taking tasks, so the
first replicate block a worker runs does not compile (the same warm-up as the service)."""

from __future__ import annotations

import logging
from typing import Any

from services.common.jitcache import prepare_cache

log = logging.getLogger(__name__)


def dask_setup(worker: Any) -> None:
    """Called by the worker at start, before it joins the scheduler."""
    cache = prepare_cache()  # before any kernel module is imported
    from services.simulation.warmup import warm_kernels

    warm_kernels()
    log.info("zuhur kernels warm on %s (cache %s)", worker.name, cache)
