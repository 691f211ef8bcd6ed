"""Start the real stack (redis-server, simulation, fitting, gateway; with ``jobs=True`` also
the durable jobs redis-server and a job worker) on free loopback ports.

The same entrypoints as ``make up`` and the containers (``python -m services.simulation``
...), each process in its own session so a test can stop one and watch the rest cope.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy.local.redis import jobs_redis_args, redis_args
from services.common.healthcheck import check
from services.common.tls import PREFIX as TLS_PREFIX
from services.common.tls import TlsSettings

ROOT = Path(__file__).resolve().parents[2]
# Processes the others are clients of: ``Stack.close`` stops these last.
SERVERS = frozenset({"redis", "jobs-redis", "dask-scheduler"})


def wait_serving(port: int, service: str, timeout: float = 240.0) -> None:
    """Block until the gRPC service on 127.0.0.1:``port`` reports ``service`` SERVING."""
    deadline = time.monotonic() + timeout
    while not check(f"127.0.0.1:{port}", service, timeout=1.0):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service} on port {port} not SERVING after {timeout} s")
        time.sleep(0.25)


def tls_env(tls: TlsSettings) -> dict[str, str]:
    """The ZUHUR_TLS_* variables that give every process ``tls``."""
    env = {}
    for name, value in tls.model_dump().items():
        if value is not None:
            env[TLS_PREFIX + name.upper()] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def replicates_lasting(seconds: float, took: float, replicates: int, most: int = 256) -> int:
    """Replicates that make a sweep last about ``seconds`` here, from one run of ``replicates``
    that took ``took`` seconds: tests that need work of a known length scale it to the
    machine (a fixed size that held a slot on a slow machine ends too soon on a fast one)."""
    return min(most, max(replicates, math.ceil(seconds * replicates / took)))


def stack_ports() -> dict[str, int]:
    """A free loopback port for every process (and metrics endpoint) of a stack."""
    names = (
        "redis",
        "simulation",
        "simulation_metrics",
        "fitting",
        "fitting_metrics",
        "gateway",
        "jobs_redis",
        "jobs_metrics",
    )
    return {name: free_port() for name in names}


@dataclass
class Stack:
    """A running stack; ``stop(name)`` ends one process, ``close()`` ends all."""

    log_dir: Path
    numba_cache: Path
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # requirepass of both Redis servers (clients get it from ZUHUR_REDIS_PASSWORD in extra_env)
    redis_password: str | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # TLS of every process (ZUHUR_TLS_*); the tests' own clients present the same files
    tls: TlsSettings | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None and self.tls.enabled else "http"
        return f"{scheme}://127.0.0.1:{self.ports['gateway']}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's ``verify`` for the gateway: the CA (and our certificate) under TLS."""
        return self.tls.client_context() if self.tls is not None and self.tls.enabled else True

    def env(self) -> dict[str, str]:
        p = self.ports
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "NUMBA_CACHE_DIR": str(self.numba_cache),
            "ZUHUR_SIMULATION_PORT": str(p["simulation"]),
            "ZUHUR_SIMULATION_METRICS_PORT": str(p["simulation_metrics"]),
            "ZUHUR_FITTING_PORT": str(p["fitting"]),
            "ZUHUR_FITTING_METRICS_PORT": str(p["fitting_metrics"]),
            "ZUHUR_GATEWAY_PORT": str(p["gateway"]),
            "ZUHUR_GATEWAY_SIMULATION_TARGET": f"127.0.0.1:{p['simulation']}",
            "ZUHUR_GATEWAY_FITTING_TARGET": f"127.0.0.1:{p['fitting']}",
            "ZUHUR_GATEWAY_REDIS_URL": f"redis://127.0.0.1:{p['redis']}/0",
            "ZUHUR_GATEWAY_REDIS_BACKOFF_SECONDS": "0.5",
            "ZUHUR_JOBS_REDIS_URL": f"redis://127.0.0.1:{p['jobs_redis']}/0",
            "ZUHUR_JOBS_METRICS_PORT": str(p["jobs_metrics"]),
            **(tls_env(self.tls) if self.tls is not None else {}),
            **self.extra_env,
        }

    def command(self, name: str) -> list[str]:
        if name == "redis":
            return redis_args(self.ports["redis"], password=self.redis_password)
        if name == "jobs-redis":
            data = self.log_dir / "jobs-redis-data"
            return jobs_redis_args(self.ports["jobs_redis"], data, password=self.redis_password)
        if name == "dask-scheduler":  # a Dask cluster on loopback (ports["dask_scheduler"])
            port = str(self.ports["dask_scheduler"])
            return [sys.executable, "-m", "distributed.cli.dask_scheduler",
                    "--host", "127.0.0.1", "--port", port, "--no-dashboard"]  # fmt: skip
        if name.startswith("dask-worker"):  # one thread, no nanny: SIGKILL really loses it
            return [sys.executable, "-m", "distributed.cli.dask_worker",
                    f"tcp://127.0.0.1:{self.ports['dask_scheduler']}", "--host", "127.0.0.1",
                    "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", name,
                    "--preload", "services.simulation.dask_worker"]  # fmt: skip
        module = {
            "simulation": "services.simulation",
            "fitting": "services.fitting",
            "jobs": "gateway.jobs",
        }
        return [sys.executable, "-m", module.get(name, name)]

    def start(self, name: str) -> None:
        """Start (or restart) one process, logging to ``log_dir/name.log``."""
        log = (self.log_dir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            self.command(name),
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal one process and wait for it; returns its exit code."""
        return self.stop_all([name], sig, timeout)[name]

    def stop_all(
        self, names: list[str], sig: int = signal.SIGTERM, timeout: float = 20.0
    ) -> dict[str, int]:
        """Signal every one of ``names`` at once, then wait for them (all within ``timeout``,
        then killed): their shutdowns overlap. Returns each exit code."""
        procs = {name: self.procs.pop(name) for name in names}
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        for proc in procs.values():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return {name: int(proc.returncode) for name, proc in procs.items()}

    def wait_ready(self, timeout: float = 240.0, status: str = "ready") -> dict[str, object]:
        """Block until /readyz says ``status``: "ready" (both services SERVING and Redis up)
        or "degraded" (services SERVING, Redis refusing)."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {self.log(name)}")
            try:
                reply = httpx.get(f"{self.url}/readyz", timeout=2.0, verify=self.verify)
                last = reply.json()
                if reply.status_code == 200 and reply.json()["status"] == status:
                    return reply.json()  # type: ignore[no-any-return]
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.25)
        raise TimeoutError(f"stack not ready in {timeout} s: {last}")

    def wait_worker(self, timeout: float = 60.0) -> None:
        """Block until the job worker serves its metrics (it is then taking jobs)."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.ports['jobs_metrics']}/metrics"
        while True:
            proc = self.procs["jobs"]
            if proc.poll() is not None:
                raise RuntimeError(f"jobs exited with {proc.returncode}: {self.log('jobs')}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"job worker not up in {timeout} s: {self.log('jobs')}")
            time.sleep(0.2)

    def metric(self, service: str, name: str, **labels: str) -> float:
        """Sum of the samples of Prometheus metric ``name`` (with these labels) that
        ``service`` ("simulation", "fitting" or "jobs") exposes now."""
        port = self.ports[f"{service}_metrics"]
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[-1])
        return total

    def in_flight(self, service: str = "simulation") -> float:
        """Requests ``service`` has admitted and not yet finished (its in-flight gauge)."""
        return self.metric(service, "zuhur_grpc_server_in_flight_requests")

    def wait_idle(self, service: str = "simulation", timeout: float = 30.0) -> float:
        """Seconds until ``service`` has no request in flight (polled every 10 ms)."""
        start = time.perf_counter()
        while self.in_flight(service) > 0:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{service} still busy after {timeout} s")
            time.sleep(0.01)
        return time.perf_counter() - start

    def json_logs(self, name: str) -> list[dict[str, object]]:
        """Every JSON log line ``name`` wrote so far (with ZUHUR_LOG_FORMAT=json)."""
        path = self.log_dir / f"{name}.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        found = []
        for line in lines:
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def close(self) -> None:
        """Stop everything: first the clients (gateway, worker, services, Dask workers) all at
        once, then what they talk to (both Redis servers, the Dask scheduler), so no client
        spends its shutdown retrying a server that is already gone."""
        servers = [n for n in self.procs if n in SERVERS]
        self.stop_all([n for n in self.procs if n not in SERVERS])
        self.stop_all(servers)

    def another_gateway(self, log_dir: Path, **env: str) -> Stack:
        """A second gateway on this stack's services and Redis with its own settings
        (``env``, e.g. API keys on): one process instead of a whole stack. Its ``close()``
        stops only that gateway."""
        log_dir.mkdir(parents=True, exist_ok=True)
        other = Stack(log_dir, self.numba_cache, ports={**self.ports, "gateway": free_port()},
                      extra_env={**self.extra_env, **env},
                      redis_password=self.redis_password)  # fmt: skip
        try:
            other.start("gateway")
            other.wait_ready()
        except BaseException:
            other.close()
            raise
        return other


def start_stack(
    log_dir: Path,
    numba_cache: Path,
    jobs: bool = False,
    redis_password: str | None = None,
    ready: str = "ready",
    tls: TlsSettings | None = None,
    **extra_env: str,
) -> Stack:
    """Start every process on fresh ports and wait until the gateway reports ``ready``
    (the jobs Redis always: /readyz counts it; with ``jobs`` also a worker taking jobs);
    ``tls``: every hop TLS."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(log_dir, numba_cache, ports=stack_ports(), extra_env=extra_env,
                  redis_password=redis_password, tls=tls)  # fmt: skip
    names = ("redis", "jobs-redis", "simulation", "fitting", "gateway", "jobs")
    try:
        for name in names if jobs else names[:-1]:
            stack.start(name)
        stack.wait_ready(status=ready)
        if jobs:
            stack.wait_worker()
    except BaseException:
        stack.close()
        raise
    return stack
