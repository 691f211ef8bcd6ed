"""Gateway helpers for long work: Cache-Control parsing, RetryInfo -> Retry-After, job hints."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from gateway.api.cached_call import no_cache
from gateway.core.errors import job_hint, retry_delay
from services.common.rpc import busy_status


@pytest.mark.parametrize(
    ("header", "fresh"),
    [
        ("no-cache", True),
        ("max-age=0, No-Cache", True),
        ('no-cache="set-cookie"', True),  # a field-limited no-cache still asks for fresh
        ("no-store", False),  # only storing is refused; a lookup is still fine
        ("max-age=60", False),
        ("", False),
    ],
)
def test_no_cache_reads_the_cache_control_directives(header: str, fresh: bool) -> None:
    assert no_cache({"cache-control": header} if header else {}) is fresh


class _Refused(grpc.aio.AioRpcError):
    """An AioRpcError carrying the service's rich status in its trailing metadata."""

    def __init__(self, status: grpc.Status) -> None:
        super().__init__(
            status.code,
            grpc.aio.Metadata(),
            grpc.aio.Metadata(*status.trailing_metadata),
            details=status.details,
        )


@pytest.mark.parametrize(("seconds", "header"), [(0.2, 1), (1.0, 1), (7.3, 8), (95.0, 95)])
def test_retry_info_of_a_busy_service_becomes_whole_seconds(seconds: float, header: int) -> None:
    """What the service sends (rpc.busy_status) is what the gateway turns into Retry-After."""
    error: Any = _Refused(busy_status(4, seconds))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert retry_delay(error) == header
    assert "max_in_flight" in error.details()


def test_job_hint_names_the_jobs_method_of_the_route() -> None:
    assert '"method": "sweep"' in job_hint("/v1/sweeps")
    assert '"method": "sample"' in job_hint("/v1/graphs/sample")
    assert '"method": "simulate_abilities"' in job_hint("/v1/abilities/simulate")
    assert '"method": "power-law"' in job_hint("/v1/fits/power-law")
    assert "POST /v1/jobs" in job_hint("/v1/other")
