"""Bad requests refused correctly through the real stack: body limits (with gateway memory
measured from /proc), strict JSON types, and problem+json for every HTTP-level refusal."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.common.config import DEFAULT_MAX_BODY_BYTES
from tests.integration.stack import Stack

PROBLEM = "application/problem+json"
MIB = 1024 * 1024
SAMPLE = {"model": "erdos_renyi", "n": 1000, "c": 2.0, "replicates": 2, "seed": 7}


def memory_kib(pid: int, key: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak so far) of process ``pid``, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def post_raw(url: str, path: str, size: int, chunked: bool) -> tuple[int, bytes, float]:
    """POST ``size`` bytes of JSON-ish body over a raw socket, reading the answer as soon as
    it comes (a client like httpx would insist on sending the whole body first); returns
    (status, response body, seconds until the status line)."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    sock = socket.create_connection((host, port), timeout=10)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    start = time.perf_counter()
    sock.sendall(head.encode())
    answer = bytearray()

    def feed() -> None:
        chunk = b"[" + b"0," * (MIB // 2 - 1) + b"0"
        sent = 0
        try:
            while sent < size:
                sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                sent += len(chunk)
        except OSError:  # the gateway answered and closed: what we want
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    elapsed = None
    while b"\r\n\r\n" not in answer or len(answer) < answer.find(b"\r\n\r\n") + 4 + 50:
        data = sock.recv(65536)
        if not data:
            break
        if elapsed is None:
            elapsed = time.perf_counter() - start
        answer += data
    sock.close()
    status = int(answer.split(b" ", 2)[1])
    return status, bytes(answer.split(b"\r\n\r\n", 1)[1]), float(elapsed or 0.0)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_50_mb_body_is_refused_within_a_second_without_buffering(
    stack: Stack, chunked: bool
) -> None:
    pid = stack.procs["gateway"].pid
    before = memory_kib(pid, "VmRSS")
    status, body, elapsed = post_raw(stack.url, "/v1/fits/power-law", 50 * MIB, chunked)
    grown_mib = (memory_kib(pid, "VmRSS") - before) / 1024
    print(f"50 MB {'chunked' if chunked else 'declared'}: {status} in {elapsed:.3f} s, "
          f"RSS +{grown_mib:.1f} MiB")  # fmt: skip
    assert status == 413
    problem = json.loads(body[body.find(b"{") :].split(b"\r\n")[0])
    assert problem["status"] == 413 and str(DEFAULT_MAX_BODY_BYTES) in problem["detail"]
    # A declared length is refused before reading; a chunked body must first be read up to
    # the limit (16 MiB through the HTTP parser: about 0.6 s idle, 1.1 s on 2 busy cores).
    assert elapsed < (3.0 if chunked else 1.0), elapsed
    assert grown_mib < 50, grown_mib
    assert httpx.get(f"{stack.url}/healthz", timeout=2).status_code == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_eight_concurrent_50_mb_bodies_keep_the_gateway_bounded(
    stack: Stack, chunked: bool
) -> None:
    """The peak resident size (VmHWM) grows by at most what the limit admits per request:
    nothing for declared lengths (refused before reading), one limit's worth per chunked body."""
    pid = stack.procs["gateway"].pid
    peak_before = memory_kib(pid, "VmHWM")
    results: list[tuple[int, bytes, float]] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                post_raw(stack.url, "/v1/fits/power-law", 50 * MIB, chunked)
            )
        )
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    health = httpx.get(f"{stack.url}/healthz", timeout=5)
    for t in threads:
        t.join(30)
    peak_growth_mib = (memory_kib(pid, "VmHWM") - peak_before) / 1024
    print(f"8 x 50 MB {'chunked' if chunked else 'declared'}: peak RSS +{peak_growth_mib:.1f} "
          f"MiB, /healthz {health.elapsed.total_seconds():.3f} s")  # fmt: skip
    assert [r[0] for r in results] == [413] * 8
    assert health.status_code == 200 and health.elapsed.total_seconds() < 1.0
    bound = 8 * DEFAULT_MAX_BODY_BYTES / MIB + 50 if chunked else 50
    assert peak_growth_mib < bound, (peak_growth_mib, bound)


def test_a_million_point_fit_gets_its_422_naming_the_field_and_limit(stack: Stack) -> None:
    """Under the body limit but over the service's point limit: the service's own 422, not the
    transport's RESOURCE_EXHAUSTED (a 429 that a client would retry forever)."""
    x = list(range(1, 1_000_001))
    body = json.dumps({"x": x, "y": [1] * len(x)}, separators=(",", ":")).encode()
    assert len(body) < DEFAULT_MAX_BODY_BYTES
    reply = httpx.post(
        f"{stack.url}/v1/fits/power-law",
        content=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 422, reply.text
    errors = reply.json()["errors"]
    assert errors[0]["field"] == "x" and "100000" in errors[0]["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("c", True), ("seed", True), ("n", "1000"), ("n", True), ("n", 1000.5), ("model", 1)],
)
def test_json_types_are_strict(stack: Stack, field: str, value: object) -> None:
    reply = httpx.post(f"{stack.url}/v1/graphs/sample", json={**SAMPLE, field: value}, timeout=30)
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"] == PROBLEM
    assert [e["field"] for e in reply.json()["errors"]] == [field]


def test_an_integer_is_still_a_number(stack: Stack) -> None:
    reply = httpx.post(f"{stack.url}/v1/graphs/sample", json={**SAMPLE, "c": 2}, timeout=60)
    assert reply.status_code == 200, reply.text
    assert reply.json()["n"] == 1000


def test_malformed_json_is_a_400_naming_line_and_column(stack: Stack) -> None:
    body = b'{\n  "model": "erdos_renyi",\n  "n": 1000,,\n}'
    reply = httpx.post(
        f"{stack.url}/v1/graphs/sample",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400
    assert reply.headers["content-type"] == PROBLEM
    problem = reply.json()
    with pytest.raises(json.JSONDecodeError) as parsed:  # the parser's own position
        json.loads(body)
    assert (problem["line"], problem["column"]) == (parsed.value.lineno, parsed.value.colno)
    assert (problem["line"], problem["column"]) == (3, 13)  # the second comma
    assert "line 3, column 13" in problem["detail"]


@pytest.mark.parametrize(
    "body",
    [b'{"n": "\xff\xfe"}', b'{"n": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000],
    ids=["invalid-utf8", "5000-digit-integer", "deep-nesting"],
)
def test_unparseable_bodies_are_400_problems(stack: Stack, body: bytes) -> None:
    reply = httpx.post(
        f"{stack.url}/v1/graphs/sample", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"] == PROBLEM
    assert reply.json()["status"] == 400


def test_unknown_path_wrong_method_and_wrong_media_type_are_problems(stack: Stack) -> None:
    missing = httpx.get(f"{stack.url}/v1/nothing-here")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    wrong_method = httpx.get(f"{stack.url}/v1/graphs/sample")
    assert (wrong_method.status_code, wrong_method.headers["content-type"]) == (405, PROBLEM)
    assert wrong_method.headers["allow"] == "POST"
    form = httpx.post(f"{stack.url}/v1/graphs/sample", data={"n": "1000"})
    assert (form.status_code, form.headers["content-type"]) == (415, PROBLEM)
    assert "application/x-www-form-urlencoded" in form.json()["detail"]
    bare = httpx.post(f"{stack.url}/v1/graphs/sample", content=json.dumps(SAMPLE).encode())
    assert bare.status_code == 415


def test_the_openapi_documents_every_refusal(stack: Stack) -> None:
    spec = httpx.get(f"{stack.url}/openapi.json", timeout=10).json()
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"404", "405"} <= codes, (method, path, codes)
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= codes, (method, path, codes)
            if method == "post" and path != "/v1/jobs":
                assert {"429", "503", "504"} <= codes, (method, path, codes)
