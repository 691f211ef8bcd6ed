"""Submission's service check: only a definite refusal refuses a job; an outage accepts it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from gateway.api.cached_call import Call
from gateway.core.clients import FITTING
from gateway.core.errors import UpstreamError
from gateway.jobs import methods
from services.common.control import VALIDATE_ONLY
from zuhur.v1 import fitting_pb2


def _context(error: grpc.StatusCode | None, seen: list[dict[str, Any]]) -> Any:
    async def invoke(message: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        if error is not None:
            raise grpc.aio.AioRpcError(error, grpc.aio.Metadata(), grpc.aio.Metadata(), "no")
        return fitting_pb2.FitResult()

    settings = SimpleNamespace(job_check_deadline_seconds=2.0)
    return SimpleNamespace(
        settings=settings, call=lambda service, method: Call(service, method, invoke, 60.0)
    )


def _check(error: grpc.StatusCode | None, seen: list[dict[str, Any]]) -> None:
    method = methods.lookup("power_law")
    assert method is not None and method.service == FITTING
    message = fitting_pb2.FitPowerLawRequest(x=[1.0, 2.0], y=[1.0, 0.5])
    asyncio.run(methods.check(_context(error, seen), method, message))


def test_the_check_asks_for_validation_only_with_a_short_deadline() -> None:
    seen: list[dict[str, Any]] = []
    _check(None, seen)
    assert seen == [{"timeout": 2.0, "metadata": ((VALIDATE_ONLY, "1"),)}]


@pytest.mark.parametrize("code", sorted(methods.REFUSALS, key=lambda c: c.name))
def test_a_refusal_refuses_the_job(code: grpc.StatusCode) -> None:
    with pytest.raises(UpstreamError) as caught:
        _check(code, [])
    assert caught.value.code == code and caught.value.service == FITTING


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
    ],
)
def test_an_outage_accepts_the_job_for_the_worker_to_retry(code: grpc.StatusCode) -> None:
    _check(code, [])  # no exception: the job is queued
