"""The documentation against the real stack: examples answer 200, limits are the services'.

A headless Chromium (Debian's ``chromium`` driven by Playwright) checks that /docs and /redoc
render with no request leaving the gateway; it is skipped where chromium is not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.core.protojson import MAX_ITEMS_LIMIT, MAXIMUM_LIMIT
from tests.integration.browser import chromium, needs_chromium
from tests.integration.jobs_client import wait_until
from tests.integration.stack import Stack


def openapi_examples(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, body) of every request-body example in the spec, in either OpenAPI form."""
    found = []
    for path, methods in spec["paths"].items():
        for operation in methods.values():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            found += [(path, e["value"]) for e in media.get("examples", {}).values()]
            found += [(path, e) for e in media["schema"].get("examples", [])]
    return found


def test_every_openapi_example_succeeds(stack: Stack) -> None:
    """Each example answers its route's documented success code; a job example then runs
    to ``succeeded``."""
    spec = httpx.get(f"{stack.url}/openapi.json").json()
    examples = openapi_examples(spec)
    posted = {path for path, _ in examples}
    routes = {p for p, m in spec["paths"].items() if "post" in m}
    assert posted == routes, f"routes without an example: {routes - posted}"
    for path, body in examples:
        success = min(c for c in spec["paths"][path]["post"]["responses"] if c.startswith("2"))
        reply = httpx.post(f"{stack.url}{path}", json=body, timeout=300)
        assert reply.status_code == int(success), (path, reply.text[:500])
        if path == "/v1/jobs":
            assert wait_until(stack.url, reply.json()["id"])["status"] == "succeeded"
        if path == "/v1/fits/critical-point":  # drawn from ER scaling: x_c = 1, exponents 1/3
            params = reply.json()["params"]
            assert params["threshold"]["value"] == pytest.approx(1.0, abs=1e-3)
            assert params["gamma_over_nu"]["value"] == pytest.approx(1 / 3, rel=1e-3)


def _limited(schema: Any) -> list[dict[str, Any]]:
    """Every sub-schema that names a configured limit."""
    if isinstance(schema, list):
        return [s for item in schema for s in _limited(item)]
    if not isinstance(schema, dict):
        return []
    here = [schema] if MAXIMUM_LIMIT in schema or MAX_ITEMS_LIMIT in schema else []
    return here + [s for value in schema.values() for s in _limited(value)]


def test_openapi_limits_are_those_the_services_report(stack: Stack) -> None:
    spec = httpx.get(f"{stack.url}/openapi.json").json()
    assert "x-limits-unavailable" not in spec["info"]
    services = httpx.get(f"{stack.url}/v1/info").json()["services"]
    reported = {
        f"{s['service'].rsplit('.', 1)[1].lower()}.{k}": v
        for s in services
        for k, v in s["limits"].items()
    }
    limited = _limited(spec["components"]["schemas"])
    assert len(limited) >= 20
    for schema in limited:
        if MAXIMUM_LIMIT in schema:
            assert schema["maximum"] == reported[schema[MAXIMUM_LIMIT]], schema
        if MAX_ITEMS_LIMIT in schema:
            assert schema["maxItems"] == reported[schema[MAX_ITEMS_LIMIT]], schema


def test_a_request_over_a_documented_limit_is_refused_by_the_service(stack: Stack) -> None:
    """The documented maximum is the one enforced: one over it is a 422 naming the field."""
    spec = httpx.get(f"{stack.url}/openapi.json").json()
    props = spec["components"]["schemas"]["SampleGraphRequest"]["properties"]
    max_side = props["L"]["anyOf"][0]["maximum"]
    body = {"model": "square_lattice_site", "L": max_side + 1, "p": 0.5}
    reply = httpx.post(f"{stack.url}/v1/graphs/sample", json=body, timeout=60)
    assert reply.status_code == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["L"]


@needs_chromium
@pytest.mark.parametrize(
    ("page", "rendered"), [("/docs", ".opblock"), ("/redoc", "[data-section-id]")]
)
def test_docs_render_in_chromium_with_no_request_leaving_the_gateway(
    stack: Stack, page: str, rendered: str, tmp_path: Path
) -> None:
    requested: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        tab = browser.new_page()
        tab.on("request", lambda r: requested.append(r.url))
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.goto(f"{stack.url}{page}", wait_until="networkidle")
        tab.wait_for_selector(rendered, timeout=30_000)
        text = tab.inner_text("body")
        tab.screenshot(path=tmp_path / f"{page.strip('/')}.png")
    hosts = {urlsplit(u).netloc for u in requested if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {urlsplit(stack.url).netloc}, requested
    assert not errors, errors  # e.g. nothing the Content-Security-Policy had to refuse
    assert any(u.endswith("/openapi.json") for u in requested)
    assert "/v1/graphs/sample" in text or "Sample independent realizations" in text
