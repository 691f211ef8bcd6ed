"""Container health probe: exit 0 when a service is ready.

Usage: ``python -m services.common.healthcheck 127.0.0.1:50051 zuhur.v1.Simulation``
(standard gRPC health service) or ``... http://127.0.0.1:8000/readyz`` (HTTP 200).
With ZUHUR_TLS_* set it speaks TLS and presents this process's certificate (mutual TLS).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.tls import TlsSettings


def channel(target: str, tls: TlsSettings | None = None) -> grpc.Channel:
    """A blocking channel to ``target``: TLS when ``tls`` (default: from the env) is on."""
    credentials = (tls or TlsSettings()).channel_credentials()
    if credentials is None:
        return grpc.insecure_channel(target)
    return grpc.secure_channel(target, credentials)


def check(
    target: str, service: str = "", timeout: float = 2.0, tls: TlsSettings | None = None
) -> bool:
    """True when ``service`` at ``target`` answers SERVING within ``timeout`` seconds."""
    with channel(target, tls) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def check_http(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers HTTP 200 (https: verified against ZUHUR_TLS_CA_FILE)."""
    context = TlsSettings().client_context() if url.startswith("https://") else None
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0].startswith(("http://", "https://")):
        return 0 if check_http(argv[0]) else 1
    return 0 if check(argv[0], argv[1] if len(argv) > 1 else "") else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
