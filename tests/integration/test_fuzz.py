"""Schemathesis against the gateway's own OpenAPI: every check (server errors, status codes and
content types the schema documents, response schemas, negative data rejected, positive data
accepted, 405s for methods a path lacks), generated valid and invalid data, fixed seed.

The stack gets small work limits: the services report them in the OpenAPI (``maximum``,
``maxItems``), so generated valid requests stay cheap and the run fits its time budget.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.stack import ROOT, Stack, start_stack

SMALL_LIMITS = {
    "ZUHUR_SIMULATION_LIMITS__MAX_NODES": "20000",
    "ZUHUR_SIMULATION_LIMITS__MAX_SIDE": "128",
    "ZUHUR_SIMULATION_LIMITS__MAX_REPLICATES": "16",
    "ZUHUR_SIMULATION_LIMITS__MAX_POINTS": "32",
    "ZUHUR_SIMULATION_LIMITS__MAX_WORK": "2000000",
    "ZUHUR_SIMULATION_LIMITS__MAX_CELLS": "10000",
    "ZUHUR_SIMULATION_ABILITY_LIMITS__MAX_SIZES": "16",
    "ZUHUR_SIMULATION_ABILITY_LIMITS__MAX_ITEMS": "1000",
    "ZUHUR_SIMULATION_ABILITY_LIMITS__MAX_REPLICATES": "16",
    "ZUHUR_SIMULATION_ABILITY_LIMITS__MAX_WORK": "2000000",
    "ZUHUR_FITTING_LIMITS__MAX_POINTS": "200",
    # A broken power law refits ~0.4 s per resample on a 2-core machine (multi-start trf):
    # 5 resamples stay well inside the budget, so a 504 would mean a real stall.
    "ZUHUR_FITTING_LIMITS__MAX_BOOTSTRAP": "5",
    "ZUHUR_FITTING_LIMITS__TIME_BUDGET_S": "15",
}
# Per operation; with the seed fixed the run is the same every time (about a minute).
MAX_EXAMPLES = 25
SEED = 20261129
MAX_SECONDS = 80


@pytest.fixture(scope="module")
def small_stack(tmp_path_factory: pytest.TempPathFactory, numba_cache: Path) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("fuzz"), numba_cache, jobs=True, **SMALL_LIMITS)
    yield s
    s.close()


@pytest.mark.timeout(420)
def test_schemathesis_finds_nothing(small_stack: Stack, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).with_name("st")),
        f"--config-file={ROOT / 'schemathesis.toml'}",
        "run",
        f"{small_stack.url}/openapi.json",
        "--checks=all",
        "--mode=all",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        "--generation-deterministic",
        "--phases=examples,coverage,fuzzing",
        f"--max-time={MAX_SECONDS}",
        "--request-timeout=30",
        "--workers=2",
        "--no-color",
        f"--report-dir={tmp_path}",
    ]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=MAX_SECONDS + 60, check=False
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
