"""Dashboards and alert rules checked offline: they parse, and every metric (and label) they
name is one the code exports, read from the prometheus_client registry the gateway, the
services and the jobs worker register their metrics in."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
PROVISIONING = ROOT / "deploy/grafana/provisioning"
# Series Prometheus itself adds to every scrape, and the labels it attaches.
BUILTIN = {"up": set()}
TARGET_LABELS = {"job", "instance"}
# What each process runs: the gateway app, the jobs worker, the two servicers.
PROCESSES = (
    "gateway.main",
    "gateway.jobs.worker",
    "services.simulation.server",
    "services.fitting.server",
)


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Sample name -> label names of every metric the Zuhur processes export."""
    for module in PROCESSES:  # importing them registers their metrics
        importlib.import_module(module)

    names: dict[str, set[str]] = dict(BUILTIN)
    for family in REGISTRY.collect():
        labels = set(getattr(REGISTRY._names_to_collectors.get(family.name), "_labelnames", ()))
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("", "_sum", "_count"),
        }.get(family.type, ("",))
        for suffix in suffixes:
            names[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


def selectors(expr: str) -> Iterator[tuple[str, list[str]]]:
    """(metric name, matcher label names) of every vector selector in a PromQL expression
    (a syntax error raises); Grafana's ``$__rate_interval`` stands in as 5m."""
    tree = promql_parser.parse(expr.replace("$__rate_interval", "5m"))
    found: list[tuple[str, list[str]]] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append((node.name, [m.name for m in node.matchers.matchers]))
        return True

    promql_parser.walk(tree, visit)
    return iter(found)


def check_expr(expr: str, exported: dict[str, set[str]], where: str) -> list[str]:
    problems = []
    for name, labels in selectors(expr):
        if name not in exported:
            problems.append(f"{where}: {name} is not exported by any Zuhur process")
            continue
        unknown = set(labels) - exported[name] - TARGET_LABELS
        if unknown:
            problems.append(f"{where}: {name} has no label {sorted(unknown)}")
    return problems


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_dashboards_parse_and_use_the_provisioned_data_source() -> None:
    assert DASHBOARDS, "no dashboard in deploy/grafana/dashboards"
    sources = yaml.safe_load((PROVISIONING / "datasources/datasources.yml").read_text())
    uids = {d["uid"] for d in sources["datasources"]}
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["title"], path
        ids = [p["id"] for p in panels(dashboard)]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["targets"], f"{path.name}: {panel['title']} has no query"
            assert panel["datasource"]["uid"] in uids, panel["title"]
            assert {t["refId"] for t in panel["targets"]} == {
                chr(65 + i) for i in range(len(panel["targets"]))
            }
    provider = yaml.safe_load((PROVISIONING / "dashboards/dashboards.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_dashboards_cover_the_operators_questions() -> None:
    """Traffic, latency, errors, cache, admission, jobs and engine throughput all have panels."""
    text = " ".join(p.read_text() for p in DASHBOARDS)
    for metric in (
        "zuhur_http_requests_total",
        "zuhur_http_request_duration_seconds_bucket",
        "zuhur_cache_lookups_total",
        "zuhur_grpc_server_in_flight_requests",
        "zuhur_grpc_server_rejected_total",
        "zuhur_jobs_queued",
        "zuhur_jobs_finished_total",
        "zuhur_job_retries_total",
        "zuhur_engine_replicates_total",
        "zuhur_engine_nodes_total",
    ):
        assert metric in text, metric


def test_dashboards_name_only_exported_metrics(exported: dict[str, set[str]]) -> None:
    problems = []
    for path in DASHBOARDS:
        for panel in panels(json.loads(path.read_text())):
            for target in panel.get("targets", []):
                where = f"{path.name}/{panel['title']}"
                problems += check_expr(target["expr"], exported, where)
    assert problems == []


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_alert_rules_parse_and_name_only_exported_metrics(exported: dict[str, set[str]]) -> None:
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    assert {
        "ZuhurCacheRedisDown",
        "ZuhurServiceNotServing",
        "ZuhurRequestsThrottled",
        "ZuhurJobsFailing",
    } <= names
    problems = []
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        promql_parser.parse_duration(rule["for"])
        problems += check_expr(rule["expr"], exported, rule["alert"])
    assert problems == []
    config = yaml.safe_load((ALERTS.parent / "prometheus.yml").read_text())
    assert config["rule_files"] == [ALERTS.name]


def test_cross_check_catches_a_metric_the_code_does_not_export(
    exported: dict[str, set[str]],
) -> None:
    assert check_expr("rate(zuhur_http_requests_total[5m])", exported, "x") == []
    assert check_expr("rate(zuhur_http_request_total[5m])", exported, "x")  # typo
    assert check_expr('zuhur_jobs_queued{method="sweep"}', exported, "x")  # no such label
    with pytest.raises(ValueError):
        check_expr("sum(rate(zuhur_http_requests_total[5m])", exported, "x")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_rules_and_config() -> None:
    tests = ALERTS.parent / "alerts_test.yml"  # each degraded state fires its alert
    for args in (
        ["test", "rules", str(tests)],
        ["check", "rules", str(ALERTS)],
        ["check", "config", str(ALERTS.parent / "prometheus.yml")],
    ):
        run = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr
