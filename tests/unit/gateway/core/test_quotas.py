"""The concurrency quota's Retry-After: the time until the client's oldest request should
finish, from its moving average of request durations."""

from __future__ import annotations

import pytest

from gateway.core.quotas import concurrency_retry_after


@pytest.mark.parametrize(
    ("elapsed_ms", "mean_ms", "expected"),
    [
        (2_500, 8_000, 6),  # 5.5 s left, rounded up: never earlier than the estimate
        (0, 12_000, 12),
        (7_900, 8_000, 1),  # 0.1 s left: the floor of 1 s
        (9_000, 8_000, 1),  # overdue: it should end any moment
        (0, -1, 1),  # no request of this client finished yet: no estimate
        (0, 500_000, 150),  # capped at the slot lifetime
    ],
)
def test_retry_after_is_the_mean_less_the_oldest_requests_age(
    elapsed_ms: int, mean_ms: int, expected: int
) -> None:
    assert concurrency_retry_after(elapsed_ms, mean_ms, ceiling=150.0) == expected
