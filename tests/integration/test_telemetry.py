"""One request followed end to end: the real stack exports its spans over OTLP to a collector
in this test, and its JSON log lines carry the same trace and request ids.

The independent truth is the W3C ``traceparent`` the test sends: a trace id and parent span
id it chose itself, which every process must carry (gateway -> gRPC metadata -> service;
gateway -> job record -> worker -> service) without being told anything else.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import JOB_TIMERS
from tests.integration.otlp import Collector, Span
from tests.integration.stack import Stack, start_stack

SERVER, CLIENT, CONSUMER = 2, 3, 5  # OTLP SpanKind values
SAMPLE = "/zuhur.v1.Simulation/SampleGraph"


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


@pytest.fixture(scope="module")
def traced(
    tmp_path_factory: pytest.TempPathFactory, numba_cache: Path, collector: Collector
) -> Iterator[Stack]:
    """A stack with the jobs worker, tracing to ``collector``, logging JSON lines."""
    env = {
        **JOB_TIMERS,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "ZUHUR_LOG_FORMAT": "json",
    }
    s = start_stack(tmp_path_factory.mktemp("traced"), numba_cache, jobs=True, **env)
    yield s
    s.close()


def traceparent() -> tuple[str, str, str]:
    """(header, trace id, span id) of a fresh sampled W3C trace context."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def sample_body(seed: int) -> dict[str, Any]:
    return {"model": "erdos_renyi", "n": 2000, "c": 2.0, "replicates": 2, "seed": seed}


def one(spans: list[Span], **match: Any) -> Span:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, [(s.service, s.name, s.kind) for s in spans])
    return found[0]


def ancestors(span: Span, spans: list[Span]) -> list[Span]:
    """The span's parents within ``spans``, nearest first."""
    by_id = {s.span_id: s for s in spans}
    chain = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


def wait_log(stack: Stack, name: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
    """The first JSON log line of process ``name`` with these field values."""
    deadline = time.monotonic() + timeout
    while True:
        for line in stack.json_logs(name):
            if all(line.get(k) == v for k, v in match.items()):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name} log line with {match}: {stack.log(name)[-1500:]}")
        time.sleep(0.1)


def test_sync_request_is_one_trace_gateway_to_service(traced: Stack, collector: Collector) -> None:
    header, trace_id, parent_id = traceparent()
    nodes = traced.metric("simulation", "zuhur_engine_nodes_total", method="SampleGraph")
    replicates = traced.metric("simulation", "zuhur_engine_replicates_total", method="SampleGraph")
    body = sample_body(secrets.randbelow(2**31))
    reply = httpx.post(
        f"{traced.url}/v1/graphs/sample",
        json=body,
        headers={"traceparent": header},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-cache"] == "MISS"
    # No X-Request-ID sent: the request id is the trace id, so a report names the trace.
    assert reply.headers["x-request-id"] == trace_id

    spans = collector.wait_for(trace_id, {"POST /v1/graphs/sample", f"zuhur-simulation {SAMPLE}"})
    root = one(spans, service="zuhur-gateway", name="POST /v1/graphs/sample", kind=SERVER)
    assert root.parent_id == parent_id  # continues the caller's trace
    assert root.attributes["zuhur.request_id"] == trace_id
    call = one(spans, service="zuhur-gateway", name=SAMPLE, kind=CLIENT)
    served = one(spans, service="zuhur-simulation", name=SAMPLE, kind=SERVER)
    assert served.parent_id == call.span_id  # the context crossed in the gRPC metadata
    assert root in ancestors(call, spans)
    redis = [s for s in spans if s.kind == CLIENT and "redis" in str(s.attributes).lower()]
    assert redis and all(root in ancestors(s, spans) for s in redis)  # cache lookup and store

    access = wait_log(traced, "gateway", logger="zuhur.access", request_id=trace_id)
    assert access["trace_id"] == trace_id
    assert access["route"] == "/v1/graphs/sample" and access["status"] == 200
    assert access["cache"] == "MISS" and access["duration_ms"] > 0
    rpc = wait_log(
        traced, "simulation", logger="zuhur.rpc", request_id=trace_id, rpc_method="SampleGraph"
    )
    assert rpc["trace_id"] == trace_id and rpc["span_id"] == served.span_id
    assert rpc["code"] == "OK"
    # The engine's work counters grew by the request's replicates and replicates x n.
    after = traced.metric("simulation", "zuhur_engine_replicates_total", method="SampleGraph")
    assert after - replicates == body["replicates"]
    after = traced.metric("simulation", "zuhur_engine_nodes_total", method="SampleGraph")
    assert after - nodes == body["replicates"] * body["n"]


def test_job_continues_the_submitting_trace(traced: Stack, collector: Collector) -> None:
    traced.wait_worker()
    header, trace_id, _ = traceparent()
    body = {"method": "sample", "request": sample_body(secrets.randbelow(2**31))}
    reply = httpx.post(
        f"{traced.url}/v1/jobs", json=body, headers={"traceparent": header}, timeout=30
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["id"]
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{traced.url}/v1/jobs/{job_id}").json()["status"]) != "succeeded":
        assert status in ("queued", "running") and time.monotonic() < deadline, status
        time.sleep(0.2)

    spans = collector.wait_for(
        trace_id, {"POST /v1/jobs", "job sample_graph", f"zuhur-simulation {SAMPLE}"}
    )
    submit = one(spans, service="zuhur-gateway", name="POST /v1/jobs", kind=SERVER)
    attempt = one(spans, service="zuhur-jobs", name="job sample_graph", kind=CONSUMER)
    assert attempt.parent_id == submit.span_id  # the traceparent stored in the job record
    assert attempt.attributes["zuhur.job_id"] == job_id
    # Two calls of the service: the submission's validate-only check, then the attempt's run.
    deadline = time.monotonic() + 15
    while len(served := [s for s in spans if s.service == "zuhur-simulation"
                         and s.name == SAMPLE and s.kind == SERVER]) < 2:  # fmt: skip
        assert time.monotonic() < deadline, [(s.service, s.name) for s in spans]
        time.sleep(0.1)
        spans = collector.trace(trace_id)
    checked, ran = sorted(served, key=lambda s: attempt in ancestors(s, spans))
    assert submit in ancestors(checked, spans) and attempt not in ancestors(checked, spans)
    assert attempt in ancestors(ran, spans)

    line = wait_log(traced, "jobs", logger="zuhur.jobs", job_id=job_id, outcome="succeeded")
    assert line["trace_id"] == trace_id and line["request_id"] == trace_id
    assert line["cache"] == "MISS"
    rpc = wait_log(
        traced, "simulation", logger="zuhur.rpc", trace_id=trace_id, rpc_method="SampleGraph"
    )
    assert rpc["request_id"] == trace_id  # the worker forwarded the submission's request id


def test_problems_and_every_response_carry_the_request_id(traced: Stack) -> None:
    bad = sample_body(1) | {"n": 1}
    reply = httpx.post(f"{traced.url}/v1/graphs/sample", json=bad, timeout=30)
    assert reply.status_code == 422
    problem = reply.json()
    assert problem["request_id"] == reply.headers["x-request-id"] == problem["trace_id"]

    mine = {"x-request-id": "bug-report-42"}
    reply = httpx.post(f"{traced.url}/v1/graphs/sample", json=bad, headers=mine, timeout=30)
    assert reply.headers["x-request-id"] == "bug-report-42"
    assert reply.json()["request_id"] == "bug-report-42"
    assert len(reply.json()["trace_id"]) == 32  # still its own trace
    line = wait_log(traced, "gateway", logger="zuhur.access", request_id="bug-report-42")
    assert line["status"] == 422 and line["trace_id"] == reply.json()["trace_id"]
    # The service judged n (its limit) and logged the call under the caller's request id.
    line = wait_log(traced, "simulation", logger="zuhur.rpc", request_id="bug-report-42")
    assert line["code"] == "INVALID_ARGUMENT"

    missing = httpx.get(f"{traced.url}/v1/jobs/{'0' * 32}", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["request_id"] == missing.headers["x-request-id"]

    ids = set()
    for path in ("/healthz", "/readyz", "/metrics", "/v1/info", "/no/such/route"):
        response = httpx.get(f"{traced.url}{path}", headers={"x-request-id": "bad id!"})
        ids.add(response.headers["x-request-id"])  # an unsafe id is replaced, never echoed
    assert "bad id!" not in ids and len(ids) == 5


def test_streamed_sweep_is_traced_through_the_aio_server_interceptor(
    traced: Stack, collector: Collector
) -> None:
    header, trace_id, _ = traceparent()
    body = {
        "model": "erdos_renyi",
        "n": 300,
        "grid": {"start": 0, "stop": 4, "points": 5},
        "replicates": 3,
        "seed": secrets.randbelow(2**31),
    }
    nodes = traced.metric("simulation", "zuhur_engine_nodes_total", method="Sweep")
    headers = {"traceparent": header, "accept": "application/x-ndjson"}
    reply = httpx.post(f"{traced.url}/v1/sweeps", json=body, headers=headers, timeout=60)
    assert reply.status_code == 200
    assert "curve" in reply.text.splitlines()[-1]
    sweep = "/zuhur.v1.Simulation/Sweep"
    spans = collector.wait_for(trace_id, {"POST /v1/sweeps", f"zuhur-simulation {sweep}"})
    call = one(spans, service="zuhur-gateway", name=sweep, kind=CLIENT)
    served = one(spans, service="zuhur-simulation", name=sweep, kind=SERVER)
    assert served.parent_id == call.span_id
    rpc = wait_log(traced, "simulation", logger="zuhur.rpc", trace_id=trace_id, rpc_method="Sweep")
    assert rpc["code"] == "OK" and rpc["request_id"] == trace_id
    after = traced.metric("simulation", "zuhur_engine_nodes_total", method="Sweep")
    assert after - nodes == body["replicates"] * body["n"]
