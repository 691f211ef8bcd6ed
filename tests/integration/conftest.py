"""Fixtures that run the real processes; every test here is marked ``integration``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.stack import ROOT, Stack, start_stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def numba_cache() -> Path:
    """The repo's kernel cache, so services start warm after the first compile."""
    return Path(os.environ.get("NUMBA_CACHE_DIR", ROOT / ".numba_cache"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, numba_cache: Path) -> Iterator[Stack]:
    """One shared stack, as `make up` runs it (jobs included), for tests that leave every
    process running."""
    s = start_stack(tmp_path_factory.mktemp("stack"), numba_cache, jobs=True)
    yield s
    s.close()


# Short job timers so fault tests finish fast: a silent job is retried after 3 s, retries
# back off from 0.2 s to at most 1 s, three attempts, one job at a time (so one can queue),
# a SIGTERMed worker hands its job back after 1 s.
JOB_TIMERS = {
    "ZUHUR_JOBS_DRAIN_SECONDS": "0",  # a SIGTERMed job is handed back however fast it runs
    "ZUHUR_JOBS_HEARTBEAT_SECONDS": "3",
    "ZUHUR_JOBS_SWEEP_SECONDS": "1",
    "ZUHUR_JOBS_RETRY_DELAY_SECONDS": "0.2",
    "ZUHUR_JOBS_RETRY_MAX_DELAY_SECONDS": "1",
    "ZUHUR_JOBS_ATTEMPTS": "3",
    "ZUHUR_JOBS_CONCURRENCY": "1",
}


@pytest.fixture(scope="module")
def jobs_stack(tmp_path_factory: pytest.TempPathFactory, numba_cache: Path) -> Iterator[Stack]:
    """A stack with the jobs Redis and one worker, for one test module (tests that stop a
    process start it again)."""
    s = start_stack(tmp_path_factory.mktemp("jobs"), numba_cache, jobs=True, **JOB_TIMERS)
    yield s
    s.close()


@pytest.fixture
def own_stack(tmp_path: Path, numba_cache: Path) -> Iterator[Stack]:
    """A private stack for tests that stop processes (no near cache: the fault tests watch
    what the gateway does when Redis itself goes away)."""
    s = start_stack(tmp_path, numba_cache, ZUHUR_GATEWAY_NEAR_CACHE_SECONDS="0")
    yield s
    s.close()
