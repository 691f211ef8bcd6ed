"""gRPC channels to the services: one per target for the app's lifetime, created in lifespan.

TLS (with our certificate as the client's, for mutual TLS) when ZUHUR_TLS_* name files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.core.config import Settings
from gateway.core.errors import UpstreamError
from gateway.core.requestid import grpc_interceptors
from services.common.config import message_limit
from services.common.tls import TlsSettings, secure_or_insecure_channel
from zuhur.v1 import common_pb2, fitting_pb2_grpc, simulation_pb2_grpc

SIMULATION = "zuhur.v1.Simulation"
FITTING = "zuhur.v1.Fitting"

# Retry only UNAVAILABLE (connection not there yet, replica going away); spread calls over
# every address a dns:/// target resolves to.
_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{"service": SIMULATION}, {"service": FITTING}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)
_OPTIONS = [
    ("grpc.service_config", _SERVICE_CONFIG),
    ("grpc.enable_retries", 1),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    # Reconnect quickly after a service restarts (gRPC's default back-off reaches 120 s).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


@dataclass
class Upstreams:
    """Channels and stubs of the simulation and fitting services."""

    settings: Settings
    tls: TlsSettings = field(default_factory=TlsSettings)
    simulation_channel: grpc.aio.Channel = field(init=False)
    fitting_channel: grpc.aio.Channel = field(init=False)
    # Last engine version each service reported; part of every cache key.
    engine_versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Send whatever an admitted body can become (the services accept as much).
        options = [
            *_OPTIONS,
            ("grpc.max_send_message_length", message_limit(self.settings.max_body_bytes)),
        ]
        self.simulation_channel = secure_or_insecure_channel(
            self.settings.simulation_target, self.tls, options=options,
            interceptors=grpc_interceptors(),
        )  # fmt: skip
        self.fitting_channel = secure_or_insecure_channel(
            self.settings.fitting_target, self.tls, options=options,
            interceptors=grpc_interceptors(),
        )  # fmt: skip
        self.simulation = simulation_pb2_grpc.SimulationStub(self.simulation_channel)
        self.fitting = fitting_pb2_grpc.FittingStub(self.fitting_channel)

    def channel(self, service: str) -> grpc.aio.Channel:
        return self.simulation_channel if service == SIMULATION else self.fitting_channel

    async def info(self, service: str, timeout: float) -> common_pb2.InfoResponse:
        """The service's Info: engine version, configured limits, models (``UpstreamError``
        when the service fails)."""
        stub = self.simulation if service == SIMULATION else self.fitting
        try:
            reply: common_pb2.InfoResponse = await stub.Info(
                common_pb2.InfoRequest(), timeout=timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise UpstreamError(service, exc) from exc
        return reply

    async def engine_version(self, service: str) -> str:
        """The service's engine version, asked once and then remembered."""
        if service not in self.engine_versions:
            info = await self.info(service, self.settings.health_deadline_seconds * 5)
            self.engine_versions[service] = info.engine_version
        return self.engine_versions[service]

    async def serving(self, service: str) -> bool:
        """Whether ``service`` reports SERVING on the standard health service."""
        stub = health_pb2_grpc.HealthStub(self.channel(service))
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=service),
                timeout=self.settings.health_deadline_seconds,
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        await self.simulation_channel.close()
        await self.fitting_channel.close()
