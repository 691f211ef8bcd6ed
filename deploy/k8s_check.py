"""Render every kustomization under deploy/k8s and check the manifests offline.

Rendering uses ``kubectl kustomize`` where kubectl is installed, else ``render`` below, which
implements the kustomize fields our kustomizations use (resources, namespace, labels,
images, replicas) and refuses any other. Each rendered object is validated against the
Kubernetes OpenAPI schema (``kubernetes-validate``, strict: unknown fields are errors), then
against the rules the schema cannot express: a PodDisruptionBudget for every Deployment,
a termination grace longer than the service's drain, the image pulled as a local cluster
can, and the compiled-kernel cache of the image not hidden by a volume.
Usage: ``python -m deploy.k8s_check [KUSTOMIZATION_DIR ...]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from services.common.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy/k8s"
KUBERNETES_VERSION = "1.31.0"  # the oldest release the manifests must run on
IMAGE = "zuhur"
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "replicas"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}
# Seconds a service drains in-flight work after SIGTERM (env *_GRACE_SECONDS, default below;
# the gateway's uvicorn graceful-shutdown timeout is fixed in gateway/__main__.py).
DRAIN_ENV = {
    "simulation": "ZUHUR_SIMULATION_GRACE_SECONDS",
    "fitting": "ZUHUR_FITTING_GRACE_SECONDS",
}
SERVICE_DRAIN_S = float(ServiceSettings.model_fields["grace_seconds"].default)
GATEWAY_DRAIN_S = 10.0
GRACE_MARGIN_S = 5.0  # readiness propagation and process exit on top of the drain
Doc = dict[str, Any]


def kustomizations() -> list[Path]:
    """Every directory under deploy/k8s with a kustomization.yaml."""
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def render(directory: Path) -> list[Doc]:
    """The objects ``kubectl kustomize directory`` would print (for the fields we use)."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise ValueError(f"{directory}: kustomize fields not supported here: {sorted(unknown)}")
    docs: list[Doc] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        if path.is_dir():
            docs += render(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if "namespace" in spec and doc["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = spec["namespace"]
        for label in spec.get("labels", []):
            if label.get("includeSelectors") or label.get("includeTemplates"):
                raise ValueError(f"{directory}: labels with selectors/templates not supported")
            meta.setdefault("labels", {}).update(label["pairs"])
        template = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in template.get("containers", []) + template.get("initContainers", []):
            name = container["image"].split(":")[0]
            for image in spec.get("images", []):
                if image["name"] == name:
                    tag = image.get("newTag", container["image"].partition(":")[2])
                    container["image"] = f"{image.get('newName', name)}:{tag}"
        for replicas in spec.get("replicas", []):
            if doc["kind"] == "Deployment" and meta["name"] == replicas["name"]:
                doc["spec"]["replicas"] = replicas["count"]
    return docs


def kubectl_render(directory: Path) -> list[Doc] | None:
    """``kubectl kustomize directory``, or None where kubectl is not installed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    out = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _env(container: Doc) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def problems(docs: list[Doc]) -> list[str]:
    """Schema violations and rule breaks of a rendered kustomization; empty when fine."""
    found: list[str] = []
    for doc in docs:
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(map(str, exc.path)) or "(top)"
            found.append(f"{where}: {path}: {exc.message}")
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    for doc in (d for d in docs if d["kind"] == "Deployment"):
        name = doc["metadata"]["name"]
        where = f"Deployment/{name}"
        labels = doc["spec"]["template"]["metadata"].get("labels", {})
        if not any(
            b["spec"]["selector"].get("matchLabels", {}).items() <= labels.items() for b in budgets
        ):
            found.append(f"{where}: no PodDisruptionBudget selects its pods")
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"]:
            if container["image"].split(":")[0] != IMAGE:
                continue
            if container["image"].endswith(":latest") or ":" not in container["image"]:
                found.append(f"{where}: image {container['image']!r} needs a fixed tag")
            if container.get("imagePullPolicy") != "IfNotPresent":
                found.append(f"{where}: imagePullPolicy must be IfNotPresent (local clusters)")
            env = _env(container)
            default = SERVICE_DRAIN_S if name in DRAIN_ENV else GATEWAY_DRAIN_S
            drain = float(env.get(DRAIN_ENV.get(name, ""), default))
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if grace < drain + GRACE_MARGIN_S:
                found.append(
                    f"{where}: terminationGracePeriodSeconds {grace} must exceed the "
                    f"{drain:g} s drain by {GRACE_MARGIN_S:g} s"
                )
            cache = env.get("NUMBA_CACHE_DIR")
            mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
            if name in DRAIN_ENV and not cache:
                found.append(f"{where}: NUMBA_CACHE_DIR unset (kernels compiled at every start)")
            if cache and any(cache == m or cache.startswith(m.rstrip("/") + "/") for m in mounts):
                found.append(f"{where}: a volume hides the image's kernel cache {cache}")
    return found


def main(argv: list[str]) -> int:
    directories = [Path(a) for a in argv] or kustomizations()
    failed = False
    for directory in directories:
        docs = kubectl_render(directory)
        how = "kubectl kustomize"
        if docs is None:
            docs, how = render(directory), "deploy.k8s_check.render"
        errors = problems(docs)
        for error in errors:
            print(f"{directory}: {error}", file=sys.stderr)
        failed |= bool(errors)
        if not errors:
            kinds = sorted({d["kind"] for d in docs})
            print(f"{directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory}"
                  f": {len(docs)} objects ({', '.join(kinds)}) rendered by {how}, valid for "
                  f"Kubernetes {KUBERNETES_VERSION}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
