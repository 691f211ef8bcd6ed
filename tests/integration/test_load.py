"""The Locust load test (deploy/load) against the real stack: every request body of the mix is
valid, and a short headless run of all three users ends with requests and no failures."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import httpx

from deploy.load.bodies import BODIES, CRITICAL_POINT, CRITICAL_POINT_SWEEPS, critical_point_body
from tests.integration.stack import ROOT, Stack


def test_every_body_of_the_mix_is_served(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=120) as client:
        for path, body in BODIES.items():
            reply = client.post(path, json=body)
            assert reply.status_code == 200, (path, reply.text)
        sweeps = [client.post("/v1/sweeps", json=b).json() for b in CRITICAL_POINT_SWEEPS]
        reply = client.post(CRITICAL_POINT, json=critical_point_body(sweeps))
        assert reply.status_code == 200, reply.text
        threshold = reply.json()["params"]["threshold"]["value"]
        assert abs(threshold - 0.592746) < 0.02  # site percolation threshold, square lattice


def test_headless_locust_run_reports_without_failures(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "ZUHUR_LOAD_SIMULATION_TARGET": f"127.0.0.1:{stack.ports['simulation']}"}
    run = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "deploy/load/locustfile.py", "--headless",
         "--host", stack.url, "--users", "3", "--spawn-rate", "3", "--run-time", "8s",
         "--stop-timeout", "20", "--csv", str(tmp_path / "run"),
         "--html", str(tmp_path / "report.html")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    with (tmp_path / "run_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows.pop("Aggregated")
    assert int(total["Request Count"]) > 0 and int(total["Failure Count"]) == 0, total
    kinds = {row["Type"] for row in rows.values()}
    assert {"POST", "grpc"} <= kinds, kinds  # the HTTP users and the gRPC user both ran
    assert (tmp_path / "report.html").stat().st_size > 0
