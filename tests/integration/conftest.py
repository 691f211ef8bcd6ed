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
    """One shared stack for tests that leave every process running."""
    s = start_stack(tmp_path_factory.mktemp("stack"), numba_cache)
    yield s
    s.close()


@pytest.fixture
def own_stack(tmp_path: Path, numba_cache: Path) -> Iterator[Stack]:
    """A private stack for tests that stop processes."""
    s = start_stack(tmp_path, numba_cache)
    yield s
    s.close()
