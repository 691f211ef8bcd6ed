"""Kernel side of services.common.control: poll the cancel flag, record progress.

A meter is an int64 array (layout in services.common.control: CANCEL, DONE, STEP,
STEPS); kernels write their own progress into it and read the flag another thread sets,
so a nogil kernel stops within one check interval of a cancel. Checking touches no
random stream, so results are the same bytes whether or not anyone watches.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from services.common.control import CANCEL, DONE, STEP, STEPS


@njit(cache=True, nogil=True, inline="always")
def start_replicate(meter: np.ndarray, steps: int) -> bool:
    """Begin a replicate of ``steps`` steps; True when the run was cancelled."""
    meter[STEP] = 0
    meter[STEPS] = steps
    return meter[CANCEL] != 0


@njit(cache=True, nogil=True, inline="always")
def at_step(meter: np.ndarray, step: int) -> bool:
    """Record ``step`` steps done in this replicate; True when the run was cancelled."""
    meter[STEP] = step
    return meter[CANCEL] != 0


@njit(cache=True, nogil=True, inline="always")
def end_replicate(meter: np.ndarray, r: int) -> None:
    """Replicate ``r`` (0-based within the call) is finished."""
    meter[DONE] = r + 1
    meter[STEP] = 0
