"""Admission's Retry-After estimate: the time until the first admitted request should end."""

from __future__ import annotations

import time

import pytest

from services.common.control import DONE, STEP, STEPS, RunControl
from services.common.rpc import Admission


def _advance(ctl: RunControl, replicates: int, done: float, elapsed: float) -> None:
    """Make ``ctl`` look ``elapsed`` seconds old with ``done`` of ``replicates`` finished."""
    ctl.begin(replicates)
    _, meter = ctl.meter(replicates)
    meter[DONE] = int(done)
    meter[STEPS] = 1000
    meter[STEP] = round((done - int(done)) * 1000)
    ctl.started = time.monotonic() - elapsed


def test_a_request_a_quarter_done_after_2_s_leaves_6_s() -> None:
    admission = Admission("test", limit=1)
    ctl = admission.try_enter()
    assert ctl is not None and admission.try_enter() is None  # the one slot is taken
    _advance(ctl, 8, 2.0, elapsed=2.0)
    assert admission.retry_after() == pytest.approx(6.0, rel=0.01)


def test_the_first_slot_to_free_decides_and_more_work_waits_longer() -> None:
    admission = Admission("test", limit=2)
    small, big = admission.try_enter(), admission.try_enter()
    assert small is not None and big is not None
    _advance(small, 4, 1.0, elapsed=1.0)  # 3 s left
    _advance(big, 40, 1.0, elapsed=1.0)  # 39 s left
    assert admission.retry_after() == pytest.approx(3.0, rel=0.01)
    admission.leave(small)
    assert admission.retry_after() == pytest.approx(39.0, rel=0.01)


def test_without_progress_the_typical_duration_is_used_and_1_s_is_the_floor() -> None:
    admission = Admission("test", limit=1)
    assert admission.retry_after() == 1.0  # nothing known
    first = admission.try_enter()
    assert first is not None
    first.started -= 10.0
    admission.leave(first)  # a request that took 10 s
    second = admission.try_enter()
    assert second is not None
    second.started -= 4.0
    assert admission.retry_after() == pytest.approx(6.0, rel=0.01)
    second.started -= 20.0  # older than typical: it should end any moment
    assert admission.retry_after() == 1.0
