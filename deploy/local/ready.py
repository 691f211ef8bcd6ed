"""Wait until the gateway's /readyz says ready, print the URL, then idle until stopped.

While waiting it says what the stack is doing (on an empty NUMBA_CACHE_DIR the services
compile their kernels first: a minute or two, once) and which checks are still pending; then
how long the start took. honcho stops the whole stack when any process exits, so after
announcing readiness this process sleeps instead of exiting; it exits 1 if the stack is not
ready in time.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

import httpx

from services.common.healthcheck import check
from services.common.jitcache import COLD_MESSAGE, is_cold
from services.common.tls import TlsSettings

PROGRESS_EVERY_S = 10.0
# name -> (port variable, default port, gRPC health service name)
SERVICES = {
    "simulation": ("ZUHUR_SIMULATION_PORT", 50051, "zuhur.v1.Simulation"),
    "fitting": ("ZUHUR_FITTING_PORT", 50052, "zuhur.v1.Fitting"),
}


def services_pending() -> list[str]:
    """The gRPC services not yet reporting SERVING (asked directly: the gateway's access log
    stays quiet while the kernels compile)."""
    return [
        name
        for name, (port_env, port, service) in SERVICES.items()
        if not check(f"127.0.0.1:{os.environ.get(port_env, port)}", service, timeout=1.0)
    ]


def wait_ready(url: str, timeout: float) -> dict[str, object] | None:
    """Wait for both services to be SERVING, then for ``url``/readyz to answer 200; its JSON,
    or None on timeout. Every PROGRESS_EVERY_S seconds it prints what it still waits for."""
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    tls = TlsSettings()  # the CA and client certificate of ZUHUR_TLS_*, when set
    verify = tls.client_context() if tls.enabled else True
    while time.monotonic() < started + timeout:
        pending = services_pending()
        if not pending:
            try:
                reply = httpx.get(f"{url}/readyz", timeout=2.0, verify=verify)
                if reply.status_code == 200:
                    return reply.json()  # type: ignore[no-any-return]
            except httpx.HTTPError:
                pass
            pending = ["the gateway"]
        if time.monotonic() >= next_report:
            waiting = ", ".join(pending)
            print(f"... {time.monotonic() - started:.0f} s, waiting for {waiting}", flush=True)
            next_report += PROGRESS_EVERY_S
        time.sleep(1.0)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    scheme = "https" if TlsSettings().enabled else "http"  # the gateway follows ZUHUR_TLS_*
    default = f"{scheme}://127.0.0.1:{os.environ.get('ZUHUR_GATEWAY_PORT', '8000')}"
    parser.add_argument("--url", default=default)
    parser.add_argument("--timeout", type=float, default=900.0)  # a cold compile on a busy machine
    args = parser.parse_args()
    started = time.monotonic()
    cache = os.environ.get("NUMBA_CACHE_DIR")
    if cache and is_cold(Path(cache)):
        print(f"Starting Zuhur: {COLD_MESSAGE}, into {cache} ...", flush=True)
    else:
        print("Starting Zuhur: services load their kernels from the cache ...", flush=True)
    status = wait_ready(args.url, args.timeout)
    if status is None:
        print(f"Zuhur did not become ready within {args.timeout:.0f} s", file=sys.stderr)
        raise SystemExit(1)
    took = time.monotonic() - started
    print(f"Zuhur is ready at {args.url} in {took:.1f} s  ({status['checks']})  "
          f"docs: {args.url}/docs", flush=True)  # fmt: skip
    print("Press Ctrl-C to stop every process.", flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
