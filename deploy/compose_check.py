"""Validate docker-compose.yml against the Compose Specification's JSON schema, offline.

No Docker engine runs on our machines, so CI checks the file with the official schema
(``deploy/schemas/compose-spec.json``, a copy with its source beside it) plus the rules
the schema cannot express: every ``depends_on`` waits for a health check that exists.
Usage: ``python -m deploy.compose_check docker-compose.yml``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(os.environ.get("ZUHUR_COMPOSE_SCHEMA", ROOT / "deploy/schemas/compose-spec.json"))


def load(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return yaml.safe_load(f)  # type: ignore[no-any-return]


def problems(compose: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every schema violation and dependency problem of ``compose``; empty when valid."""
    validator = jsonschema.Draft7Validator(schema)
    found = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    services = compose.get("services", {}) if isinstance(compose, dict) else {}
    for name, service in services.items():
        deps = service.get("depends_on", {})
        for dep, spec in deps.items() if isinstance(deps, dict) else []:
            if dep not in services:
                found.append(f"services/{name}/depends_on: unknown service {dep!r}")
            elif spec.get("condition") == "service_healthy" and "healthcheck" not in services[dep]:
                found.append(f"services/{name}/depends_on/{dep}: waits for a missing healthcheck")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else ROOT / "docker-compose.yml")
    with SCHEMA.open() as f:
        schema = json.load(f)
    errors = problems(load(path), schema)
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    if not errors:
        print(f"{path}: valid against the Compose Specification ({SCHEMA.name})")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
