"""`make up`'s launcher: honcho runs the Procfile, announces readiness, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.stack import ROOT, Stack, stack_ports


def test_procfile_stack_starts_serves_and_stops_on_sigint(tmp_path: Path) -> None:
    cache = Path(os.environ.get("NUMBA_CACHE_DIR", ROOT / ".numba_cache"))
    stack = Stack(tmp_path, cache, ports=stack_ports())
    # The same environment as the integration stack, plus the Procfile's Redis ports.
    env = {
        **stack.env(),
        "REDIS_PORT": str(stack.ports["redis"]),
        "JOBS_REDIS_PORT": str(stack.ports["jobs_redis"]),
        "JOBS_REDIS_DIR": str(tmp_path / "jobs-redis"),
    }
    log = (tmp_path / "honcho.log").open("w+")
    honcho = Path(sys.executable).parent / "honcho"
    proc = subprocess.Popen(
        [str(honcho), "-f", "deploy/local/Procfile", "-d", str(ROOT), "start"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = stack.url
    try:
        deadline = time.monotonic() + 240
        while "Zuhur is ready at" not in (tmp_path / "honcho.log").read_text():
            assert proc.poll() is None, (tmp_path / "honcho.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text()
            time.sleep(0.5)
        assert url in (tmp_path / "honcho.log").read_text()
        ready = httpx.get(f"{url}/readyz").json()
        assert ready["checks"] == {
            "simulation": "serving",
            "fitting": "serving",
            "redis": "ok",
            "jobs": "ok",
        }
        body = {"model": "erdos_renyi", "n": 1000, "c": 2.0, "seed": 1}
        assert (
            httpx.post(f"{url}/v1/graphs/sample", json=body, timeout=60).headers["X-Cache"]
            == "MISS"
        )
        assert (
            httpx.post(f"{url}/v1/graphs/sample", json=body, timeout=60).headers["X-Cache"] == "HIT"
        )
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        proc.wait(timeout=60)
    text = (tmp_path / "honcho.log").read_text()
    for name in ("redis", "jobs-redis", "simulation", "fitting", "gateway", "jobs"):
        assert f"{name}.1 stopped" in text, text[-2000:]
    try:
        httpx.get(f"{url}/healthz", timeout=1)
        raise AssertionError("gateway still answering after Ctrl-C")
    except httpx.ConnectError:
        pass
