"""Wait until the gateway's /readyz says ready, print the URL, then idle until stopped.

honcho stops the whole stack when any process exits, so after announcing readiness this
process sleeps instead of exiting; it exits 1 if the stack is not ready in time.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

import httpx


def wait_ready(url: str, timeout: float) -> dict[str, object] | None:
    """Poll ``url``/readyz until it answers 200; its JSON, or None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reply = httpx.get(f"{url}/readyz", timeout=2.0)
            if reply.status_code == 200:
                return reply.json()  # type: ignore[no-any-return]
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = f"http://127.0.0.1:{os.environ.get('ZUHUR_GATEWAY_PORT', '8000')}"
    parser.add_argument("--url", default=default)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    status = wait_ready(args.url, args.timeout)
    if status is None:
        print(f"Zuhur did not become ready within {args.timeout:.0f} s", file=sys.stderr)
        raise SystemExit(1)
    print(f"Zuhur is ready at {args.url}  ({status['checks']})  docs: {args.url}/docs", flush=True)
    print("Press Ctrl-C to stop every process.", flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
