"""A cached hit against the web server itself, both measured in one run (issue 13).

    .venv/bin/python -m tests.bench.bench_hot_path [--duration 15] [--connections 64]

Starts the real stack (tests.integration.stack), stores one seeded ``POST /v1/graphs/sample``
(n = 10^5, 4 replicates) in the cache, then drives with ``wrk -t2 -c64 --latency`` (a Lua
script sends the POST body): (a) the gateway's cached hit, (b) a bare FastAPI app
(tests.bench.bare_app) on the same uvicorn settings (httptools, uvloop, no access log) that
reads the body as JSON and returns the same bytes. Once with one worker each, then with one
worker per core. Targets: (a) >= 50% of (b)'s requests/s, (a)'s p99 <= 2x (b)'s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.integration.stack import ROOT, Stack, free_port, start_stack

BODY = {"model": "erdos_renyi", "n": 100_000, "c": 2.0, "replicates": 4, "seed": 20261129}
PATH = "/v1/graphs/sample"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk_script(directory: Path) -> Path:
    """The Lua script that makes wrk POST the benchmark body as JSON."""
    script = directory / "post.lua"
    body = json.dumps(BODY).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return script


def run_wrk(url: str, script: Path, args: argparse.Namespace) -> tuple[float, float, int]:
    """(requests/s, p99 latency in ms, non-2xx responses) of one wrk run against ``url``."""
    out = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
         "-s", str(script), url + PATH],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    assert p99 is not None, out
    return rps, float(p99.group(1)) * _UNITS[p99.group(2)], int(errors.group(1)) if errors else 0


def wait_up(url: str, timeout: float = 60.0) -> httpx.Response:
    """POST the body until ``url`` answers 200; returns that response."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            reply = httpx.post(url + PATH, json=BODY, timeout=120)
            if reply.status_code == 200:
                return reply
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not answering")
        time.sleep(0.25)


def start_bare(body_file: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The bare FastAPI peer on the gateway's uvicorn settings; returns (process, url)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.bench.bare_app:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
               "--http", "httptools", "--no-access-log", "--log-level", "warning",
               "--workers", str(workers)]  # fmt: skip
    env = {**os.environ, "ZUHUR_BENCH_BODY_FILE": str(body_file)}
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    return proc, f"http://127.0.0.1:{port}"


def gateway_metric(stack: Stack, name: str, result: str = "") -> int:
    """Sum of a gateway counter's samples (``result`` label when given) since its start."""
    text = httpx.get(stack.url + "/metrics", timeout=10).text
    label = f'result="{result}"'
    return int(sum(float(line.rsplit(" ", 1)[-1]) for line in text.splitlines()
                   if line.startswith(name + "{") and label in line))  # fmt: skip


def restart_gateway(stack: Stack, workers: int) -> None:
    stack.stop("gateway")
    stack.extra_env["ZUHUR_GATEWAY_WORKERS"] = str(workers)
    stack.start("gateway")
    hit = wait_up(stack.url)
    assert hit.headers["x-cache"] == "HIT", hit.headers


def measure(stack: Stack, tmp: Path, workers: int, args: argparse.Namespace) -> list[str]:
    """Both sides with ``workers`` processes each, gateway first then the bare app."""
    restart_gateway(stack, workers)
    hit = httpx.post(stack.url + PATH, json=BODY, timeout=120)
    body_file = tmp / "body.json"
    body_file.write_bytes(hit.content)
    bare, bare_url = start_bare(body_file, workers, tmp / f"bare-{workers}.log")
    try:
        assert wait_up(bare_url).content == hit.content  # the same bytes on both sides
        script = wrk_script(tmp)
        gw_rps, gw_p99, gw_err = run_wrk(stack.url, script, args)
        bare_rps, bare_p99, bare_err = run_wrk(bare_url, script, args)
    finally:
        bare.terminate()
        bare.wait(20)
    outcomes = {r: gateway_metric(stack, "zuhur_cache_lookups_total", r) for r in ("hit", "bypass")}
    errors = gateway_metric(stack, "zuhur_cache_errors_total")
    rows = [
        f"{workers:>7} {'gateway (cached hit)':<22} {gw_rps:>9.0f} {gw_p99:>9.1f} {gw_err:>6}"
        f"   cache {outcomes}, redis errors {errors}",
        f"{workers:>7} {'bare FastAPI':<22} {bare_rps:>9.0f} {bare_p99:>9.1f} {bare_err:>6}",
        f"{'':>7} {'gateway / bare':<22} {gw_rps / bare_rps:>9.2f} {gw_p99 / bare_p99:>9.2f}"
        f"   throughput >= 0.50: {gw_rps / bare_rps >= 0.5}, p99 <= 2x: {gw_p99 <= 2 * bare_p99}",
    ]
    print("\n".join(rows), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--per-core", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        stack = start_stack(tmp / "logs", ROOT / ".numba_cache")
        try:
            first = wait_up(stack.url)  # computes and stores the result
            print(f"POST {PATH} {json.dumps(BODY)}: {len(first.content)} bytes, "
                  f"first X-Cache {first.headers['x-cache']}")  # fmt: skip
            print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
                  f"{os.cpu_count()} cores\n{'workers':>7} {'server':<22} {'req/s':>9} "
                  f"{'p99 ms':>9} {'non-2xx':>6}")  # fmt: skip
            measure(stack, tmp, 1, args)
            if args.per_core > 1:
                measure(stack, tmp, args.per_core, args)
        finally:
            stack.close()


if __name__ == "__main__":
    main()
