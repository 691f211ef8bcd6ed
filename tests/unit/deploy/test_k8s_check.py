"""deploy.k8s_check: its renderer against kubectl's, and that the check catches what a
cluster (or a drain) would trip over."""

from __future__ import annotations

import copy
import shutil
from typing import Any

import pytest

from deploy.k8s_check import kubectl_render, kustomizations, problems, render


def by_key(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


@pytest.mark.parametrize("directory", kustomizations(), ids=lambda p: p.name)
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_renderer_matches_kubectl_kustomize(directory: Any) -> None:
    assert by_key(render(directory)) == by_key(kubectl_render(directory) or [])


@pytest.mark.parametrize("directory", kustomizations(), ids=lambda p: p.name)
def test_every_kustomization_renders_valid_manifests(directory: Any) -> None:
    docs = render(directory)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "PodDisruptionBudget", "Namespace"} <= kinds
    assert problems(docs) == []


def test_scale_out_overlay_scales_the_engines() -> None:
    base, scaled = (by_key(render(d)) for d in kustomizations())
    assert base[("Deployment", "simulation")]["spec"]["replicas"] == 1
    assert scaled[("Deployment", "simulation")]["spec"]["replicas"] == 4
    assert scaled[("Deployment", "fitting")]["spec"]["replicas"] == 2


def _broken(edit: Any) -> list[str]:
    docs = copy.deepcopy(render(kustomizations()[0]))
    edit(by_key(docs))
    return problems(docs)


def _container(docs: dict[Any, Any], name: str) -> dict[str, Any]:
    return docs[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_check_rejects_what_a_cluster_or_a_drain_would() -> None:
    def unknown_field(d: dict[Any, Any]) -> None:
        _container(d, "gateway")["imagePolicy"] = "IfNotPresent"  # typo: not a k8s field

    def short_grace(d: dict[Any, Any]) -> None:
        d[("Deployment", "simulation")]["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ] = 10  # = the drain: the kubelet kills in-flight calls

    def no_budget(d: dict[Any, Any]) -> None:
        d[("PodDisruptionBudget", "fitting")]["spec"]["selector"]["matchLabels"] = {"app": "x"}

    def hidden_cache(d: dict[Any, Any]) -> None:
        _container(d, "fitting")["volumeMounts"].append({"name": "tmp", "mountPath": "/opt"})

    def pulls_always(d: dict[Any, Any]) -> None:
        _container(d, "simulation")["imagePullPolicy"] = "Always"

    expected = {
        unknown_field: "imagePolicy",
        short_grace: "terminationGracePeriodSeconds",
        no_budget: "Deployment/fitting: no PodDisruptionBudget",
        hidden_cache: "hides the image's kernel cache",
        pulls_always: "imagePullPolicy must be IfNotPresent",
    }
    for edit, message in expected.items():
        found = _broken(edit)
        assert any(message in p for p in found), (edit.__name__, found)
