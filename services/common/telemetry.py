"""OpenTelemetry tracing of a Zuhur process: OTLP export when configured, nothing otherwise.

Configured by the standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns tracing on, e.g. ``http://127.0.0.1:4317``
(OTLP over gRPC); ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_BSP_*`` work as the SDK documents them; ``OTEL_SDK_DISABLED=true`` or
``OTEL_TRACES_EXPORTER=none`` turn it off. Without an endpoint nothing is installed: no
instrumentation wraps a call, so tracing costs nothing.

When on, the maintained instrumentations trace FastAPI (``instrument_app``), gRPC aio
clients and servers (the trace context rides in the call metadata) and redis-py; the jobs
carry it in their records (``carrier`` / ``extract``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    Decision,
    Sampler,
    SamplingResult,
    _get_from_env_or_default,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

log = logging.getLogger(__name__)

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
# Probes and scrapes: not requests anyone follows.
QUIET_URLS = "/metrics,/healthz,/readyz"
_provider: TracerProvider | None = None


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for traces: an OTLP endpoint, and not switched off."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol != "grpc":
        raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: Zuhur exports OTLP over grpc")
    return any(env.get(name) for name in ENDPOINT_VARS)


class QuietRoots(Sampler):
    """Drops client spans that would start a trace (health pings, job-queue polling: chatter,
    not requests); every other decision is the configured sampler's."""

    def __init__(self, delegate: Sampler) -> None:
        self.delegate = delegate

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind == SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"QuietRoots{{{self.delegate.get_description()}}}"


def setup(service: str) -> bool:
    """Install tracing for this process as ``service`` (unless ``OTEL_SERVICE_NAME`` names
    it) when the environment configures an endpoint; True if tracing is on. Idempotent."""
    global _provider
    if _provider is not None:
        return True
    if not enabled():
        return False
    # Imported only when on: the exporter and instrumentations cost nothing otherwise.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
        filters,
    )
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service}
    provider = TracerProvider(
        resource=Resource.create(named), sampler=QuietRoots(_get_from_env_or_default())
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    probes = filters.any_of(
        filters.service_name("grpc.health.v1.Health"),
        filters.service_prefix("grpc.reflection"),
    )
    GrpcAioInstrumentorServer(filter_=filters.negate(probes)).instrument(tracer_provider=provider)
    GrpcAioInstrumentorClient().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    _provider = provider
    log.info(
        "tracing on: OTLP to %s", next(os.environ[v] for v in ENDPOINT_VARS if os.environ.get(v))
    )
    return True


def instrument_app(app: Any) -> None:
    """Trace a FastAPI app's requests (nothing when tracing is off); probes are not traced
    unless ``OTEL_PYTHON_FASTAPI_EXCLUDED_URLS`` says otherwise."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    excluded = None if os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS") else QUIET_URLS
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls=excluded, exclude_spans=["receive", "send"]
    )


def tracer(name: str) -> trace.Tracer:
    """A tracer of the installed provider (the API's no-op tracer when tracing is off)."""
    return trace.get_tracer(name, tracer_provider=_provider)


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``...), empty outside a trace."""
    headers: dict[str, str] = {}
    if _provider is not None:
        propagate.inject(headers)
    return headers


def extract(headers: Mapping[str, str] | None) -> Context | None:
    """The context stored by ``carrier`` (None when there is none, or tracing is off)."""
    if _provider is None or not headers:
        return None
    return propagate.extract(dict(headers))


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, None outside a recorded span."""
    span = trace.get_current_span().get_span_context()
    return trace.format_trace_id(span.trace_id) if span.is_valid else None


def annotate(**attributes: str | int | float | bool) -> None:
    """Set ``zuhur.<name>`` attributes on the current span, if it is recording."""
    span = trace.get_current_span()
    if span.is_recording():
        for name, value in attributes.items():
            span.set_attribute(f"zuhur.{name}", value)
