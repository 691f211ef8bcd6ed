"""Identity, fairness and integrity through the real stack: API keys, per-client quotas kept
in Redis, a password on Redis, and cached values that cannot be forged."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.integration.stack import Stack, replicates_lasting, start_stack

PROBLEM = "application/problem+json"
PASSWORD = "integration-redis-password"
KEYS = ["alpha-key", "beta-key", "gamma-key", "delta-key", "epsilon-key", "zeta-key"]
RATE = 5  # per minute and client
HEADER_TIMEOUT = 2.0  # seconds for a request's headers
FIT = {"x": [1, 2, 4, 8, 16], "y": [10.0, 5.1, 2.4, 1.26, 0.62]}
SAMPLE = {"model": "erdos_renyi", "n": 20000, "c": 2.0, "replicates": 4, "seed": 11}
# Long enough to hold a slot while two quick requests run (about 1 s on an idle 2-core
# machine with the sim-0.3 kernel, 8 replicates took 0.6 s; sweep_lasting scales it where a
# test needs a known length, e.g. to tell a measured Retry-After from a fixed 1 s).
SLOW_SWEEP = {
    "model": "erdos_renyi",
    "n": 1000000,
    "grid": {"start": 0, "stop": 4, "points": 60},
    "replicates": 16,
    "seed": 5,
}


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, numba_cache: Path) -> Iterator[Stack]:
    """Keys on, quotas on (RATE per minute, one request at a time), Redis with a password."""
    s = start_stack(
        tmp_path_factory.mktemp("guarded"),
        numba_cache,
        redis_password=PASSWORD,
        ZUHUR_REDIS_PASSWORD=PASSWORD,
        ZUHUR_GATEWAY_API_KEYS=",".join(KEYS[:2]),
        ZUHUR_GATEWAY_API_KEYS_FILE=str(write_keys(tmp_path_factory.mktemp("keys"))),
        ZUHUR_GATEWAY_RATE_LIMIT=f"{RATE}/minute",
        ZUHUR_GATEWAY_MAX_CONCURRENT_PER_CLIENT="1",
        ZUHUR_GATEWAY_CACHE_HMAC_KEY="integration-cache-key",
        ZUHUR_GATEWAY_BODY_READ_TIMEOUT_SECONDS="1",
        ZUHUR_GATEWAY_HEADER_READ_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        ZUHUR_GATEWAY_NEAR_CACHE_SECONDS="0",  # every hit reads (and checks) Redis
    )
    yield s
    s.close()


def write_keys(folder: Path) -> Path:
    """The other keys as a mounted Secret would hold them: a file, one per line."""
    path = folder / "api-keys"
    path.write_text("\n".join(KEYS[2:]) + "\n")
    return path


def test_v1_needs_a_valid_key_and_health_stays_open(guarded: Stack) -> None:
    url = f"{guarded.url}/v1/fits/power-law"
    missing = httpx.post(url, json=FIT)
    assert (missing.status_code, missing.headers["content-type"]) == (401, PROBLEM)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.post(url, json=FIT, headers=auth("not-a-key"))
    assert wrong.status_code == 401 and "not valid" in wrong.json()["detail"]
    assert httpx.post(url, json=FIT, headers=auth("alpha-key"), timeout=30).status_code == 200
    # a key from the file works as well as one from the variable
    assert httpx.post(url, json=FIT, headers=auth("gamma-key"), timeout=30).status_code == 200
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert httpx.get(f"{guarded.url}{path}", timeout=10).status_code == 200, path
    # the page's plot endpoints compute too: guarded like /v1
    essay = httpx.post(f"{guarded.url}/ui/plots/essay", json={}, timeout=30)
    assert essay.status_code == 401
    spec = httpx.get(f"{guarded.url}/openapi.json", timeout=10).json()
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/fits/power-law"]["post"]["security"] == [{"ApiKey": []}]


def test_a_client_over_its_rate_gets_429_while_another_is_served(guarded: Stack) -> None:
    url = f"{guarded.url}/v1/fits/power-law"
    codes = [
        httpx.post(url, json=FIT, headers=auth("beta-key"), timeout=30).status_code
        for _ in range(RATE)
    ]
    assert codes == [200] * RATE
    over = httpx.post(url, json=FIT, headers=auth("beta-key"), timeout=30)
    assert (over.status_code, over.headers["content-type"]) == (429, PROBLEM)
    assert over.json()["quota"] == "rate"
    # honest: the oldest of the RATE requests leaves the one-minute window within 60 s
    assert 1 <= int(over.headers["retry-after"]) <= 60
    other = httpx.post(url, json=FIT, headers=auth("epsilon-key"), timeout=30)
    assert other.status_code == 200


def sweep_lasting(stack: Stack, seconds: float) -> dict[str, object]:
    """SLOW_SWEEP with its replicates scaled so a run takes about ``seconds`` on this
    machine, however fast: one run as gamma-key (a client no other test uses) times it."""
    started = time.monotonic()
    reply = httpx.post(
        f"{stack.url}/v1/sweeps",
        json=SLOW_SWEEP,
        headers={**auth("gamma-key"), "cache-control": "no-cache"},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    took = time.monotonic() - started
    return {**SLOW_SWEEP, "replicates": replicates_lasting(seconds, took, SLOW_SWEEP["replicates"])}


def hold_a_slot(
    stack: Stack, key: str, sweep: dict[str, object] = SLOW_SWEEP
) -> tuple[threading.Thread, list[float]]:
    """Start ``sweep`` as ``key`` in a thread, return once the simulation runs it; the
    list gets the monotonic time its 200 arrived."""
    done: list[float] = []

    def run() -> None:
        reply = httpx.post(
            f"{stack.url}/v1/sweeps",
            json=sweep,
            headers={**auth(key), "cache-control": "no-cache"},
            timeout=120,
        )
        if reply.status_code == 200:
            done.append(time.monotonic())

    holder = threading.Thread(target=run)
    holder.start()
    deadline = time.monotonic() + 20
    while stack.in_flight("simulation") < 1:
        assert time.monotonic() < deadline, "the slow sweep never started"
        time.sleep(0.02)
    return holder, done


def test_a_client_over_its_concurrency_gets_429_while_another_is_served(
    guarded: Stack,
) -> None:
    holder, done = hold_a_slot(guarded, "delta-key")
    second = httpx.post(
        f"{guarded.url}/v1/fits/power-law", json=FIT, headers=auth("delta-key"), timeout=30
    )
    # another client, while delta's sweep still holds delta's only slot
    other = httpx.post(
        f"{guarded.url}/v1/fits/power-law",
        json={**FIT, "predict_x": [32]},
        headers=auth("alpha-key"),
        timeout=30,
    )
    still_running = guarded.in_flight("simulation") >= 1
    holder.join(120)
    assert (second.status_code, second.json()["quota"]) == (429, "concurrency")
    assert int(second.headers["retry-after"]) >= 1
    assert other.status_code == 200 and still_running
    assert done, "the slow sweep failed"
    # the slot came back
    again = httpx.post(
        f"{guarded.url}/v1/fits/power-law", json=FIT, headers=auth("delta-key"), timeout=30
    )
    assert again.status_code == 200


def test_concurrency_retry_after_tracks_how_long_the_held_request_takes(
    guarded: Stack,
) -> None:
    """Retry-After is measured: after one slow sweep of ``zeta`` the gateway knows how long
    its requests take, and a refused request is told about when the running one will end
    (within a factor of two of the real wait; a fixed 1 s would be far below it)."""
    sweep = sweep_lasting(guarded, 4.0)
    first, first_done = hold_a_slot(guarded, "zeta-key", sweep)
    first.join(120)
    assert first_done, "the calibrating sweep failed"
    holder, done = hold_a_slot(guarded, "zeta-key", sweep)
    refused = httpx.post(
        f"{guarded.url}/v1/fits/power-law", json=FIT, headers=auth("zeta-key"), timeout=30
    )
    refused_at = time.monotonic()
    holder.join(120)
    assert refused.status_code == 429, refused.text
    assert done, "the held sweep failed"
    wait = done[0] - refused_at
    retry_after = int(refused.headers["retry-after"])
    assert wait > 2.5, f"the sweep is too quick to tell ({wait:.2f} s)"
    assert wait / 2 <= retry_after <= 2 * wait + 1, (retry_after, wait)
    assert f"about {retry_after} s" in refused.json()["detail"]
    print(f"Retry-After {retry_after} s, real wait {wait:.2f} s")  # shown with -s


def gateway_metric(stack: Stack, name: str, **labels: str) -> float:
    text = httpx.get(f"{stack.url}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[-1])
    return total


def test_a_tampered_cache_value_is_recomputed_not_served(guarded: Stack) -> None:
    url = f"{guarded.url}/v1/graphs/sample"
    headers = auth("epsilon-key")
    first = httpx.post(url, json=SAMPLE, headers=headers, timeout=60)
    assert first.status_code == 200
    client = redis.Redis(port=guarded.ports["redis"], password=PASSWORD)
    keys = [k for k in client.scan_iter("zuhur:v*") if not k.endswith(b":lock")]
    assert keys, "nothing was cached"
    forged = {**first.json(), "largest_fraction": {"mean": 0.999, "std": 0.0}}
    failures = gateway_metric(guarded, "zuhur_cache_errors_total", operation="verify")
    for key in keys:  # what an intruder with Redis access but not the HMAC key can write
        client.set(key, json.dumps(forged))
    second = httpx.post(url, json=SAMPLE, headers=headers, timeout=60)
    assert second.headers["x-cache"] == "MISS"
    assert second.json() == first.json()
    after = gateway_metric(guarded, "zuhur_cache_errors_total", operation="verify")
    assert after >= failures + 1
    third = httpx.post(url, json=SAMPLE, headers=headers, timeout=60)
    assert (third.headers["x-cache"], third.json()) == ("HIT", first.json())


def test_redis_with_a_password_refuses_a_gateway_without_it(
    tmp_path: Path, numba_cache: Path
) -> None:
    stack = start_stack(tmp_path, numba_cache, redis_password=PASSWORD, ready="degraded")
    try:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=stack.ports["redis"]).ping()
        ready = httpx.get(f"{stack.url}/readyz", timeout=5).json()
        assert ready["checks"]["redis"] == "unavailable"
        reply = httpx.post(f"{stack.url}/v1/graphs/sample", json=SAMPLE, timeout=60)
        assert (reply.status_code, reply.headers["x-cache"]) == (200, "BYPASS")
    finally:
        stack.close()


def test_a_body_that_stalls_is_refused_with_408(guarded: Stack) -> None:
    """Slowloris: 10 of 100 declared bytes, then silence; the gateway answers within about
    the read timeout (1 s here) and closes instead of waiting for ever."""
    sock = socket.create_connection(("127.0.0.1", guarded.ports["gateway"]), timeout=10)
    head = (
        "POST /v1/fits/power-law HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alpha-key\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    start = time.perf_counter()
    sock.sendall(head.encode() + b'{"x": [1, ')
    answer = b""
    while b"}" not in answer:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    elapsed = time.perf_counter() - start
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"application/problem+json" in answer
    assert 0.9 < elapsed < 5, elapsed


def test_headers_sent_a_byte_a_second_are_cut_off_while_others_are_served(
    guarded: Stack,
) -> None:
    """Slowloris on the headers: one byte a second never completes a request; the gateway
    answers 408 and closes within the header timeout, and serves a normal client meanwhile.
    A connection that sends nothing at all is closed the same way."""
    address = ("127.0.0.1", guarded.ports["gateway"])
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60 + b"\r\n\r\n"
    silent = socket.create_connection(address, timeout=10)
    slow = socket.create_connection(address, timeout=1.0)
    start = time.monotonic()
    answer, sent, served = b"", 0, None
    while time.monotonic() - start < HEADER_TIMEOUT + 10:
        try:
            slow.send(head[sent : sent + 1])
            sent += 1
        except OSError:
            break
        if served is None:  # a normal client, while the slow one holds its connection
            served = httpx.get(f"{guarded.url}/readyz", timeout=10).status_code
        try:
            data = slow.recv(4096)  # waits up to a second: the client's pace
        except TimeoutError:
            continue
        except OSError:
            break
        answer += data
        if not data:
            break
    closed_after = time.monotonic() - start
    slow.close()
    assert served == 200
    assert sent < len(head), "the headers completed: no slow client"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"application/problem+json" in answer
    assert HEADER_TIMEOUT - 0.5 < closed_after < HEADER_TIMEOUT + 3, closed_after
    silent_answer = b""
    while chunk := silent.recv(4096):  # the server closes it: recv returns b""
        silent_answer += chunk
    silent_closed_after = time.monotonic() - start
    silent.close()
    assert silent_answer.startswith(b"HTTP/1.1 408")
    assert silent_closed_after < HEADER_TIMEOUT + 3, silent_closed_after
