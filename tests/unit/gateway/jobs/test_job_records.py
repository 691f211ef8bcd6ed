"""Job method names, ids and the status a client sees (no processes started)."""

from __future__ import annotations

from saq import Job, Status

from gateway.jobs import methods
from gateway.jobs.records import api_status, problem_of, view
from gateway.jobs.store import CANCELLED, job_key
from zuhur.v1 import simulation_pb2


def test_every_computing_route_is_a_job_method() -> None:
    table = methods.methods()
    assert {
        "sweep", "sample", "sample_graph", "simulate_abilities", "power_law", "scaling_law",
        "broken_power_law", "critical_point", "emergence", "analyze_mirage",
    } <= set(table)  # fmt: skip
    assert methods.lookup("power-law") is table["power_law"]
    assert table["sweep"].stream_field == "curve" and table["sample"].method == "SampleGraph"
    assert methods.lookup("nonsense") is None


def test_job_id_is_a_pure_function_of_method_and_request() -> None:
    a = simulation_pb2.SampleGraphRequest(model="erdos_renyi", n=100, c=2.0, seed=1)
    b = simulation_pb2.SampleGraphRequest(seed=1, c=2.0, n=100, model="erdos_renyi")
    assert job_key("sample_graph", a) == job_key("sample_graph", b)
    assert job_key("sample_graph", a) != job_key("sweep", a)
    b.seed = 2
    assert job_key("sample_graph", a) != job_key("sample_graph", b)


def test_status_a_client_sees() -> None:
    job = Job(function="run_job", attempts=1, meta={"method": "sweep", "created_at": 1})
    cases = [
        (Status.QUEUED, None, "queued"),
        (Status.ACTIVE, None, "running"),
        (Status.COMPLETE, None, "succeeded"),
        (Status.ABORTING, CANCELLED, "cancelled"),
        (Status.ABORTED, CANCELLED, "cancelled"),
        (Status.ABORTING, "swept", "queued"),  # its worker died: about to be retried
        (Status.ABORTED, "swept", "failed"),  # ... with no attempts left (1 of 1)
        (Status.FAILED, "Traceback ...", "failed"),
    ]
    for status, error, expected in cases:
        job.status, job.error = status, error
        assert api_status(job) == expected, (status, error)
    job.status, job.error, job.attempts, job.retries = Status.ABORTED, "swept", 2, 3
    assert api_status(job) == "queued"  # the sweep retries it next
    job.attempts = 3
    assert problem_of(job) == {
        "type": "about:blank",
        "title": "Job failed",
        "status": 503,
        "detail": "the job's worker stopped responding; gave up after 3 attempts",
    }
    job.status, job.result = Status.COMPLETE, {"x": 1}
    assert view(job)["result"] == {"x": 1} and view(job, result=False)["result"] is None
