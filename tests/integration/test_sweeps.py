"""Sweeps through the real stack: curve, NDJSON progress, caching, errors, cancelling
(on a Dask cluster: test_dask.py)."""

from __future__ import annotations

import json
import time

import grpc
import httpx

from tests.integration.stack import Stack
from zuhur.v1 import simulation_pb2, simulation_pb2_grpc

SWEEP = {
    "model": "erdos_renyi",
    "n": 20000,
    "grid": {"start": 0.0, "stop": 4.0, "points": 21},
    "replicates": 8,
    "seed": 5,
}
NDJSON = {"accept": "application/x-ndjson"}


def test_sweep_curve_follows_theory_and_is_cached(stack: Stack) -> None:
    first = httpx.post(f"{stack.url}/v1/sweeps", json=SWEEP, timeout=120)
    assert first.status_code == 200, first.text
    curve = first.json()
    assert curve["control"] == "c" and curve["replicates"] == 8 and curve["seed"] == 5
    assert len(curve["points"]) == len(curve["theory"]) == 21
    for point, theory in zip(curve["points"], curve["theory"], strict=True):
        assert point["control"] == theory["control"]
        if point["control"] >= 2.0:  # far from the threshold finite-size effects are small
            assert abs(point["largest_fraction"]["mean"] - theory["largest_fraction"]) < 0.01
    second = httpx.post(f"{stack.url}/v1/sweeps", json=SWEEP, timeout=120)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert second.json() == curve


def test_ndjson_streams_progress_then_the_curve(stack: Stack) -> None:
    body = {**SWEEP, "seed": 6}
    with httpx.stream(
        "POST", f"{stack.url}/v1/sweeps", json=body, headers=NDJSON, timeout=120
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in r.iter_lines() if line]
    progress = [e["progress"] for e in lines[:-1]]
    assert progress and all(p["total"] == 8 for p in progress)
    done = [p["done"] for p in progress]
    assert done == sorted(done) and done[-1] == 8
    plain = httpx.post(f"{stack.url}/v1/sweeps", json=body, timeout=120)
    assert plain.headers["X-Cache"] == "HIT"  # the stream stored its curve
    assert lines[-1]["curve"] == plain.json()


def test_invalid_sweep_fails_before_the_first_byte(stack: Stack) -> None:
    body = {**SWEEP, "grid": {"start": 0.0, "stop": 4.0, "points": 0}}
    for headers in (NDJSON, {}):
        reply = httpx.post(f"{stack.url}/v1/sweeps", json=body, headers=headers, timeout=60)
        assert reply.status_code == 422
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert "grid.points" in [e["field"] for e in reply.json()["errors"]]


def test_a_client_hanging_up_cancels_the_sweep_cleanly(stack: Stack) -> None:
    request = simulation_pb2.SweepRequest(model="erdos_renyi", n=1_000_000, replicates=64, seed=9)
    request.grid.start, request.grid.stop, request.grid.points = 0.0, 4.0, 50
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports['simulation']}") as channel:
        stream = simulation_pb2_grpc.SimulationStub(channel).Sweep(request, timeout=120)
        first = next(stream)
        assert first.WhichOneof("event") == "progress" and first.progress.total == 64
        stream.cancel()
    metrics = f"http://127.0.0.1:{stack.ports['simulation_metrics']}/metrics"
    for _ in range(100):
        text = httpx.get(metrics).text
        if any('method="Sweep"' in x and 'code="CANCELLED"' in x for x in text.splitlines()):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("cancelled sweep not recorded as CANCELLED")
    assert "Traceback" not in stack.log("simulation")
    # The service is still there for the next client.
    reply = httpx.post(f"{stack.url}/v1/sweeps", json={**SWEEP, "seed": 99}, timeout=120)
    assert reply.status_code == 200
