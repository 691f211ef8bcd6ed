"""Containers start warm: a kernel cache compiled by the image's build step
(``python -m services.warm`` on an empty NUMBA_CACHE_DIR, then made read-only) lets each
service report SERVING and serve without compiling a kernel or writing to the cache."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.integration.stack import ROOT, free_port, wait_serving
from tests.unprivileged import unprivileged
from zuhur.v1 import common_pb2, fitting_pb2, fitting_pb2_grpc, simulation_pb2, simulation_pb2_grpc

BUILD_TIMEOUT_S = 900.0  # a cold compile of every kernel on 2 busy cores
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 300)  # the build runs in the first test


def snapshot(path: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``path`` with its mtime and contents."""
    return {
        str(p.relative_to(path)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in path.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The build step: every kernel compiled into an empty cache, then the cache read-only."""
    cache = tmp_path_factory.mktemp("image") / "numba-cache"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    build = subprocess.run(
        [sys.executable, "-m", "services.warm"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    subprocess.run(["chmod", "-R", "a-w", str(cache)], check=True)
    yield cache, build.stdout + build.stderr
    subprocess.run(["chmod", "-R", "u+w", str(cache)], check=True)


def test_build_step_compiles_every_kernel_a_warm_up_reaches(image_cache: tuple[Path, str]) -> None:
    cache, output = image_cache
    # services.warm exits 1 naming any kernel that no warm-up compiled.
    assert "compiling kernels, first run only" in output, output
    assert "not compiled by any warm-up" not in output, output
    assert ", 0 loaded from the cache" in output, output
    assert len(list(cache.rglob("*.nbi"))) > 40


def _calls(name: str, channel: grpc.Channel) -> None:
    """A real request of each kind the service runs kernels for."""
    if name == "simulation":
        sim = simulation_pb2_grpc.SimulationStub(channel)
        sim.Info(common_pb2.InfoRequest(), timeout=10)
        sim.SampleGraph(
            simulation_pb2.SampleGraphRequest(model="erdos_renyi", n=2000, c=2.0, seed=1),
            timeout=30,
        )
        sweep = simulation_pb2.SweepRequest(model="square_lattice_site", L=16, replicates=2, seed=1)
        sweep.grid.start, sweep.grid.stop, sweep.grid.points = 0.5, 0.7, 5
        assert list(sim.Sweep(sweep, timeout=30))
        return
    fit = fitting_pb2_grpc.FittingStub(channel)
    n = [7e7, 7e7, 3e8, 3e8, 1.2e9, 1.2e9, 4e9, 4e9, 1.6e10, 1.6e10]
    d = [5e9, 1e11, 5e9, 1e11, 5e9, 1e11, 5e9, 1e11, 5e9, 1e11]
    loss = [1.69 + 406.4 / a**0.34 + 410.7 / b**0.28 for a, b in zip(n, d, strict=True)]
    reply = fit.FitScalingLaw(
        fitting_pb2.FitScalingLawRequest(form="chinchilla", N=n, D=d, loss=loss), timeout=60
    )
    assert abs(reply.params["alpha"].value - 0.34) < 0.01  # the law the data were drawn from


@pytest.mark.parametrize("name", ["simulation", "fitting"])
def test_service_serves_from_a_read_only_cache_without_compiling(
    name: str, image_cache: tuple[Path, str], tmp_path: Path
) -> None:
    cache, _ = image_cache
    before = snapshot(cache)
    port, prefix = free_port(), f"ZUHUR_{name.upper()}_"
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "TMPDIR": str(tmp_path),  # where the service copies the cache
        f"{prefix}PORT": str(port),
        f"{prefix}METRICS_PORT": str(free_port()),
        f"{prefix}WORKERS": "2",
    }
    log_path = tmp_path.parent / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            unprivileged([sys.executable, "-m", f"services.{name}"]),
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_serving(port, f"zuhur.v1.{name.capitalize()}", timeout=120)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            _calls(name, channel)
    finally:
        proc.terminate()
        proc.wait(30)
    text = log_path.read_text()
    assert "writable copy of the read-only" in text, text[-3000:]
    assert "kernels: 0 compiled" in text, text[-3000:]  # every kernel loaded at warm-up
    assert snapshot(cache) == before  # nothing written to the image's cache
    (copy,) = tmp_path.glob("numba-cache-*")
    # Requests compiled nothing either: a compile would have added an index entry.
    assert {k: v for k, (_, v) in snapshot(copy).items()} == {k: v for k, (_, v) in before.items()}
