"""Cancel and watch a running computation: a flag and progress meters the kernels share.

A ``RunControl`` belongs to one request. The adapter cancels it when the client hangs up
or its deadline passes; the science code polls it between replicate blocks, and nogil
kernels poll the int64 ``meter`` arrays it hands out (no Python objects in kernels: the
flag is element ``CANCEL`` of each meter, set for every meter at once). Kernels write
their progress into the same arrays, so the adapter can report (and estimate the
remaining time of) a run at a finer grain than whole replicate blocks.

Meter layout (int64[METER_SIZE], one per kernel call, written only by that call):
``CANCEL`` (0/1, set by ``cancel``), ``DONE`` (replicates of the call finished),
``STEP`` (steps done in the current replicate) and ``STEPS`` (steps it will take).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from services.common.errors import Cancelled, Validated

# Request metadata asking only to validate: the service checks the request against its
# rules and configured limits, answers INVALID_ARGUMENT or an empty OK reply (a stream
# with no event), and runs no kernel (the gateway checks jobs this way before queueing).
VALIDATE_ONLY = "zuhur-validate-only"

CANCEL, DONE, STEP, STEPS = 0, 1, 2, 3
METER_SIZE = 4


def new_meter() -> np.ndarray:
    """A fresh meter nobody cancels (for direct kernel calls)."""
    return np.zeros(METER_SIZE, dtype=np.int64)


def meter_units(meter: np.ndarray, count: int) -> float:
    """Replicates a kernel call of ``count`` replicates has done, counting the current one
    by its steps (read while the kernel writes: each element is one aligned int64)."""
    done, step, steps = int(meter[DONE]), int(meter[STEP]), int(meter[STEPS])
    part = min(step / steps, 1.0) if steps > 0 else 0.0
    return float(min(done + part, count))


class RunControl:
    """Cancel flag and progress of one request's computation (thread-safe)."""

    def __init__(self, validate_only: bool = False) -> None:
        self.validate_only = validate_only  # stop once the request is validated, run nothing
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._live: dict[int, tuple[np.ndarray, int]] = {}  # id -> (meter, replicates)
        self._finished = 0.0
        self._reported = 0.0
        self.total = 0
        self.started = time.monotonic()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Ask every kernel call of this run to stop at its next check."""
        with self._lock:
            self._cancelled.set()
            for meter, _ in self._live.values():
                meter[CANCEL] = 1

    def check(self) -> None:
        """Raise ``Cancelled`` once the run was cancelled (call between pieces of work)."""
        if self._cancelled.is_set():
            raise Cancelled("the computation was cancelled")

    def validated(self) -> None:
        """The request passed every check: in a validate-only run, stop here (``Validated``)
        before any work starts. Science code calls it (or ``begin``) right after validating."""
        if self.validate_only:
            raise Validated("the request is valid")

    def begin(self, total: int) -> None:
        """Declare the run's size in replicates (progress is reported out of it); the
        request is validated by now, so a validate-only run stops here."""
        self.validated()
        self.total = total

    def meter(self, count: int) -> tuple[int, np.ndarray]:
        """(handle, meter) for a kernel call over ``count`` replicates; already flagged
        when the run is cancelled."""
        meter = new_meter()
        with self._lock:
            meter[CANCEL] = 1 if self._cancelled.is_set() else 0
            handle = id(meter)
            self._live[handle] = (meter, count)
        return handle, meter

    def finish(self, handle: int) -> None:
        """The call behind ``handle`` returned: count its replicates as done."""
        with self._lock:
            _, count = self._live.pop(handle)
            self._finished += count

    def release(self, handle: int) -> None:
        """The call behind ``handle`` ended without finishing (failed or cancelled)."""
        with self._lock:
            self._live.pop(handle, None)

    @property
    def finished(self) -> float:
        """Replicates of kernel calls that returned (the work really done, for throughput)."""
        with self._lock:
            return self._finished

    def done(self) -> float:
        """Replicates done so far, fractional; never decreases between calls."""
        with self._lock:
            units = self._finished + sum(meter_units(m, c) for m, c in self._live.values())
            self._reported = max(self._reported, min(units, float(self.total or units)))
            return self._reported

    def fraction(self) -> float:
        """Share of the declared work done, in [0, 1] (0 before ``begin``)."""
        return self.done() / self.total if self.total > 0 else 0.0

    def remaining_seconds(self) -> float | None:
        """Time left at the pace so far, or None while too little is done to tell."""
        f = self.fraction()
        if f < 0.01:
            return None
        return (time.monotonic() - self.started) * (1.0 - f) / f


_current = threading.local()


def bind(control: RunControl | None) -> None:
    """Make ``control`` the current thread's run (read by ``current``)."""
    _current.control = control


def current() -> RunControl | None:
    """The run the current thread works for, if its runner bound one."""
    return getattr(_current, "control", None)


def validated() -> None:
    """The current thread's request is validated: stop here if it is a validate-only run
    (for science code that takes no control argument, e.g. the fits)."""
    ctl = current()
    if ctl is not None:
        ctl.validated()
