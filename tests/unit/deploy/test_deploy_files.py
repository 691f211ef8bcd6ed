"""Deployment files checked offline: the Compose schema, and that every way of running the
stack (compose, Kubernetes, the local Procfile) starts the same entrypoints."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.compose_check import SCHEMA, load, problems

ROOT = Path(__file__).resolve().parents[3]
ENTRYPOINTS = {
    "simulation": "services.simulation",
    "fitting": "services.fitting",
    "gateway": "gateway",
    "jobs": "gateway.jobs",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(ROOT / "docker-compose.yml")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())  # type: ignore[no-any-return]


def k8s_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((ROOT / "deploy/k8s").rglob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_compose_file_is_valid(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    assert problems(compose, schema) == []


def test_validator_rejects_what_compose_would(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    bad = copy.deepcopy(compose)
    bad["services"]["gateway"]["depends_on"]["redis"]["condition"] = "service_ready"
    assert any("depends_on" in p for p in problems(bad, schema))
    bad = copy.deepcopy(compose)
    bad["services"]["gateway"]["restart_policy"] = "always"  # not a Compose key
    assert problems(bad, schema)
    bad = copy.deepcopy(compose)
    del bad["services"]["simulation"]["healthcheck"]
    assert any("missing healthcheck" in p for p in problems(bad, schema))


def test_stack_services_and_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"redis", "jobs-redis", "simulation", "fitting", "gateway", "jobs", "prometheus"} <= set(
        services
    )
    for name in services:
        assert "healthcheck" in services[name], name
    gateway_deps = services["gateway"]["depends_on"]
    assert {d: s["condition"] for d, s in gateway_deps.items()} == {
        "redis": "service_healthy",
        "jobs-redis": "service_healthy",
        "simulation": "service_healthy",
        "fitting": "service_healthy",
    }


def test_jobs_redis_is_durable_and_never_evicts(compose: dict[str, Any]) -> None:
    """Accepted jobs survive restarts (AOF on a volume) and never yield to memory pressure;
    the cache Redis stays disposable."""
    jobs = compose["services"]["jobs-redis"]
    command = jobs["command"]
    flags = dict(zip(command[1::2], command[2::2], strict=False))
    assert flags["--appendonly"] == "yes" and flags["--maxmemory-policy"] == "noeviction"
    assert any(v.endswith(":/data") for v in jobs["volumes"])
    cache = compose["services"]["redis"]["command"]
    assert "allkeys-lru" in cache
    statefulset = next(
        d
        for d in k8s_documents()
        if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "jobs-redis"
    )
    args = statefulset["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "noeviction" in args and args[args.index("--appendonly") + 1] == "yes"
    assert statefulset["spec"]["volumeClaimTemplates"]


def test_every_launcher_runs_the_same_entrypoints(compose: dict[str, Any]) -> None:
    procfile = (ROOT / "deploy/local/Procfile").read_text()
    k8s = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["command"]
        for d in k8s_documents()
        if d.get("kind") == "Deployment" and d["metadata"]["name"] in ENTRYPOINTS
    }
    for name, module in ENTRYPOINTS.items():
        command = ["python", "-m", module]
        assert compose["services"][name]["command"] == command
        assert k8s[name] == command
        assert re.search(rf"^{name}:.*python -m {re.escape(module)}$", procfile, re.M), name


def test_health_checks_probe_the_real_services(compose: dict[str, Any]) -> None:
    for name, service in (("simulation", "zuhur.v1.Simulation"), ("fitting", "zuhur.v1.Fitting")):
        test = compose["services"][name]["healthcheck"]["test"]
        assert test[1:4] == ["python", "-m", "services.common.healthcheck"]
        assert test[-1] == service


def test_prometheus_scrapes_every_metrics_port(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t
        for job in config["scrape_configs"]
        for s in job.get("static_configs", [])
        for t in s["targets"]
    } | {  # replicas found by DNS, each scraped on its own
        f"{name}:{sd['port']}"
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    env = compose["services"]
    assert targets == {
        f"gateway:{env['gateway']['environment']['ZUHUR_GATEWAY_PORT']}",
        f"simulation:{env['simulation']['environment']['ZUHUR_SIMULATION_METRICS_PORT']}",
        f"fitting:{env['fitting']['environment']['ZUHUR_FITTING_METRICS_PORT']}",
        f"jobs:{env['jobs']['environment']['ZUHUR_JOBS_METRICS_PORT']}",
    }


def dockerfile_env(name: str) -> str:
    """The value the Dockerfile's ENV gives ``name``."""
    text = (ROOT / "deploy/Dockerfile").read_text()
    found = re.findall(rf"\b{name}=(\S+)", text)
    assert len(found) == 1, name
    return str(found[0])


def test_dockerfile_is_slim_multistage_and_non_root() -> None:
    text = (ROOT / "deploy/Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.11-slim", text, re.M)) == 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0"))
    assert "PYTHONUNBUFFERED=1" in text and "NUMBA_CACHE_DIR" in text


def test_dockerfile_installs_the_package_and_compiles_kernels_at_build() -> None:
    text = (ROOT / "deploy/Dockerfile").read_text()
    runtime = text[text.index("AS runtime") :]
    assert re.search(r"pip install .*-c requirements\.lock", text)
    assert re.search(r"pip install --no-deps \.$", text, re.M)  # pyproject.toml's package
    # The kernel cache is compiled in the runtime stage, before USER, and left read-only.
    warm = runtime.index("python -m services.warm")
    assert warm < runtime.index("USER ")
    assert runtime.index("NUMBA_CACHE_DIR=") < warm
    assert "NUMBA_CPU_NAME=generic" in runtime  # a cache valid on any x86-64 host
    assert f"a-w {dockerfile_env('NUMBA_CACHE_DIR')}" in runtime


def test_services_use_the_image_kernel_cache_everywhere(compose: dict[str, Any]) -> None:
    cache = dockerfile_env("NUMBA_CACHE_DIR")
    deployments = {d["metadata"]["name"]: d for d in k8s_documents() if d["kind"] == "Deployment"}
    for name in ("simulation", "fitting"):
        service = compose["services"][name]
        assert service["environment"]["NUMBA_CACHE_DIR"] == cache
        assert service["read_only"] is True and "/tmp" in service["tmpfs"]  # where it is copied
        assert not any(v.split(":")[1].startswith(cache) for v in service.get("volumes", []))
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["NUMBA_CACHE_DIR"] == cache
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts  # where it is copied; nothing hides the image's cache
        assert not any(cache.startswith(m.rstrip("/") + "/") for m in mounts), mounts


def test_kubernetes_deployments_are_locked_down() -> None:
    docs = k8s_documents()
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= set(ENTRYPOINTS)
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"]
            assert "readinessProbe" in c and c["resources"]["limits"]
    sim = next(d for d in deployments if d["metadata"]["name"] == "simulation")
    container = sim["spec"]["template"]["spec"]["containers"][0]
    probe = container["readinessProbe"]["exec"]["command"]  # the image's probe speaks TLS
    assert probe[:3] == ["python", "-m", "services.common.healthcheck"]
    assert probe[-1] == "zuhur.v1.Simulation"
    services = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Service"}
    assert services["simulation"]["spec"]["clusterIP"] == "None"  # headless: client-side LB
    for path in (ROOT / "deploy/k8s").rglob("kustomization.yaml"):
        for resource in yaml.safe_load(path.read_text())["resources"]:
            assert (path.parent / resource).exists(), f"{path}: {resource}"


def test_every_zuhur_pod_mounts_the_tls_files_its_settings_name() -> None:
    """TLS on in k8s: each Deployment running our image takes the ZUHUR_TLS_* ConfigMap and
    mounts the Secret where those variables point; the services require client certs."""
    docs = k8s_documents()
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "zuhur-tls"
    )
    env = config["data"]
    assert env["ZUHUR_TLS_CLIENT_AUTH"] == "true"
    folders = {str(Path(env[k]).parent) for k in ("ZUHUR_TLS_CERT_FILE", "ZUHUR_TLS_KEY_FILE",
                                                   "ZUHUR_TLS_CA_FILE")}  # fmt: skip
    assert len(folders) == 1
    deployments = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Deployment"}
    for name in ENTRYPOINTS:
        pod = deployments[name]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        refs = [e["configMapRef"]["name"] for e in container["envFrom"] if "configMapRef" in e]
        assert "zuhur-tls" in refs, name
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes[mounts_name(mounts, folders)]["secret"]["secretName"] == "zuhur-tls", name
    gateway = deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert gateway["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"


def mounts_name(mounts: dict[str, str], folders: set[str]) -> str:
    """The volume mounted at the one folder of the TLS files."""
    (folder,) = folders
    return next(name for name, path in mounts.items() if path == folder)
