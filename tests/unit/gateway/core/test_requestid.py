"""Request ids and access lines without servers: the middleware and the problem hook on a
small app in process, the log formats, and the id crossing a real loopback gRPC call."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI, Response
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id
from pydantic import BaseModel

from gateway.core import errors
from gateway.core.requestid import RequestIdMiddleware, grpc_interceptors
from services.common import logs

HEX32 = re.compile(r"[0-9a-f]{32}")
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Body(BaseModel):
    n: int


def build_app(hit_every: int = 1) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.add_middleware(RequestIdMiddleware, hit_every=hit_every)

    @app.post("/items/{name}")
    async def item(name: str, body: Body, response: Response) -> dict[str, Any]:
        response.headers["X-Cache"] = "HIT"
        return {"name": name, "n": body.n}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    return app


async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kwargs)


async def test_every_response_gets_an_id_and_problems_carry_it() -> None:
    ok = await call("POST", "/items/a", json={"n": 1})
    assert ok.status_code == 200 and HEX32.fullmatch(ok.headers["x-request-id"])
    invalid = await call("POST", "/items/a", json={"n": "x"})
    assert invalid.status_code == 422
    assert invalid.json()["request_id"] == invalid.headers["x-request-id"]
    assert "trace_id" not in invalid.json()  # tracing is off here
    # An unexpected error is answered by Starlette's outermost middleware, past ours: the
    # problem hook still puts the id in the header and the body.
    crash = await call("GET", "/boom")
    assert crash.status_code == 500
    assert crash.json()["request_id"] == crash.headers["x-request-id"]
    missing = await call("GET", "/nowhere")
    assert missing.status_code == 404 and HEX32.fullmatch(missing.headers["x-request-id"])
    ids = {r.headers["x-request-id"] for r in (ok, invalid, crash, missing)}
    assert len(ids) == 4


async def test_a_sane_caller_id_is_kept_and_an_unsafe_one_replaced() -> None:
    kept = await call("POST", "/items/a", json={"n": "x"}, headers={"x-request-id": "rq-1.2:3"})
    assert kept.headers["x-request-id"] == "rq-1.2:3" == kept.json()["request_id"]
    for unsafe in ("a b", "x" * 129, "<script>"):
        reply = await call("POST", "/items/a", json={"n": 1}, headers={"x-request-id": unsafe})
        assert HEX32.fullmatch(reply.headers["x-request-id"]), unsafe


async def test_access_line_fields(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="zuhur.access"):
        reply = await call("POST", "/items/a", json={"n": 1}, headers={"x-request-id": "r1"})
        await call("GET", "/boom")
    first, crash = [r for r in caplog.records if r.name == "zuhur.access"]
    assert reply.status_code == 200
    fields = {k: getattr(first, k) for k in ("method", "route", "path", "status", "cache")}
    assert fields == {
        "method": "POST",
        "route": "/items/{name}",
        "path": "/items/a",
        "status": 200,
        "cache": "HIT",
    }
    assert first.duration_ms > 0  # type: ignore[attr-defined]
    assert crash.status == 500  # type: ignore[attr-defined]


async def test_one_hit_in_n_is_logged_and_every_other_request_always(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = httpx.ASGITransport(build_app(hit_every=4), raise_app_exceptions=False)
    with caplog.at_level(logging.INFO, logger="zuhur.access"):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for _ in range(10):  # hits (the route says X-Cache: HIT)
                await client.post("/items/a", json={"n": 1})
            for _ in range(3):  # not hits: a 422 each
                await client.post("/items/a", json={"n": "x"})
    lines = [r for r in caplog.records if r.name == "zuhur.access"]
    hits = [r for r in lines if r.cache == "HIT"]  # type: ignore[attr-defined]
    assert [r.sampled for r in hits] == [4, 4]  # type: ignore[attr-defined]  # the 4th, 8th
    assert [r.status for r in lines if r not in hits] == [422] * 3  # type: ignore[attr-defined]


async def test_with_tracing_the_id_is_the_trace_id() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("client") as span:
        reply = await call("POST", "/items/a", json={"n": "x"})
    trace_id = format_trace_id(span.get_span_context().trace_id)
    assert reply.headers["x-request-id"] == trace_id
    assert reply.json()["trace_id"] == trace_id == reply.json()["request_id"]


def record_line(fmt: str) -> tuple[str, str, str]:
    """One line logged in ``fmt`` inside a span and a request; (line, trace id, span id)."""
    stream = io.StringIO()
    handler = logs.configure("INFO", "zuhur-test", fmt)
    handler.setStream(stream)
    token = logs.REQUEST_ID.set("rid-7")
    try:
        with TracerProvider().get_tracer("t").start_as_current_span("s") as span:
            logging.getLogger("zuhur.test").info("served %s", "x", extra={"status": 200})
    finally:
        logs.REQUEST_ID.reset(token)
        logging.getLogger().removeHandler(handler)
    context = span.get_span_context()
    return stream.getvalue(), format_trace_id(context.trace_id), format_span_id(context.span_id)


def test_json_lines_carry_the_context() -> None:
    text, trace_id, span_id = record_line("json")
    line = json.loads(text)
    assert line["message"] == "served x" and line["level"] == "INFO"
    assert line["logger"] == "zuhur.test" and line["service"] == "zuhur-test"
    assert line["request_id"] == "rid-7" and line["status"] == 200
    assert line["trace_id"] == trace_id and line["span_id"] == span_id
    assert "time" in line and "args" not in line


def test_text_lines_are_readable_and_carry_the_context() -> None:
    text, trace_id, _ = record_line("text")
    assert " INFO zuhur.test: served x " in text
    assert "status=200" in text and "request_id=rid-7" in text and f"trace_id={trace_id}" in text


def test_log_format_is_checked() -> None:
    assert logs.log_format({}) == "text"
    assert logs.log_format({"ZUHUR_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="ZUHUR_LOG_FORMAT"):
        logs.log_format({"ZUHUR_LOG_FORMAT": "xml"})


async def test_request_id_crosses_a_grpc_call() -> None:
    """The gateway's channels add ``x-request-id`` to the metadata a service reads."""
    seen: list[str | None] = []

    class Record(grpc.aio.ServerInterceptor):
        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            seen.append(logs.metadata_request_id(details.invocation_metadata))
            return await continuation(details)

    server = grpc.aio.server(interceptors=[Record()])
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}", interceptors=grpc_interceptors())
        stub = health_pb2_grpc.HealthStub(channel)
        token = logs.REQUEST_ID.set("rid-grpc")
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        logs.REQUEST_ID.reset(token)
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)  # outside a request
        await channel.close()
    finally:
        await server.stop(0)
    assert seen == ["rid-grpc", None]
