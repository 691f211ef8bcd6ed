"""The gateway's documentation pages and OpenAPI, without the services running."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gateway.api.routes.docs import resolve_limits
from gateway.core.config import Settings
from gateway.core.protojson import MAX_ITEMS_LIMIT, MAXIMUM_LIMIT, model_for
from gateway.main import create_app
from tests.integration.stack import free_port
from zuhur.v1 import simulation_pb2


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """The gateway with nothing listening at its service targets."""
    settings = Settings(
        simulation_target=f"127.0.0.1:{free_port()}",
        fitting_target=f"127.0.0.1:{free_port()}",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        health_deadline_seconds=0.2,
    )
    with TestClient(create_app(settings)) as c:
        yield c


class Assets(HTMLParser):
    """Every URL an HTML page makes the browser load (src, href, spec-url, url: ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.urls.append(value)

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_from_the_gateway(client: TestClient, page: str) -> None:
    reply = client.get(page)
    assert reply.status_code == 200
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    parser = Assets()
    parser.feed(reply.text)
    script = "".join(parser.scripts)
    if "SwaggerUIBundle(" in script:  # Swagger UI loads the spec from its `url:` setting
        parser.urls.append(script.split("url: '")[1].split("'")[0])
        assert '"validatorUrl": null' in script  # no badge from validator.swagger.io
    assert "/openapi.json" in parser.urls
    assert any(u.endswith(".js") for u in parser.urls)
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert "fonts.googleapis" not in reply.text


def test_openapi_without_services_names_the_missing_limits(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["x-limits-unavailable"] == ["fitting", "simulation"]
    n = spec["components"]["schemas"]["SampleGraphRequest"]["properties"]["n"]["anyOf"][0]
    assert n[MAXIMUM_LIMIT] == "simulation.max_nodes"
    assert float(n["maximum"]) == float(2**63 - 1)  # only the int64 range: no guessed limit


def test_every_property_has_a_description(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    assert len(components) > 30
    for name, schema in components.items():
        assert schema.get("description"), name
        for prop, sub in schema["properties"].items():
            assert sub.get("description"), f"{name}.{prop}"


def test_closed_vocabularies_are_enums(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    model = schemas["SampleGraphRequest"]["properties"]["model"]
    assert model["type"] == "string" and "erdos_renyi_gnm" in model["enum"]
    metrics = schemas["SimulateAbilitiesRequest"]["properties"]["metrics"]
    assert metrics["type"] == "array" and "multiple_choice" in metrics["items"]["enum"]
    verdict = schemas["EmergenceResultOut"]["properties"]["verdict"]["anyOf"][0]
    assert verdict["enum"] == ["emergent", "smooth", "flat", "declining", "inconclusive"]
    assert schemas["FitScalingLawRequest"]["properties"]["form"]["enum"] == [
        "chinchilla",
        "kaplan",
    ]


def test_documentation_does_not_change_what_the_gateway_accepts() -> None:
    """Configured limits are the services' to enforce (only they know them); the gateway
    passes the value on. A closed set of choices is the schema's enum, and the gateway
    accepts what the schema says (a request the schema calls invalid is never accepted)."""
    body = model_for(simulation_pb2.SampleGraphRequest.DESCRIPTOR, request=True)
    parsed = body.model_validate({"model": "erdos_renyi", "n": 10**12})
    assert parsed.model_dump()["n"] == 10**12
    with pytest.raises(ValidationError):
        body.model_validate({"model": "watts_strogatz"})
    sizes = model_for(simulation_pb2.SimulateAbilitiesRequest.DESCRIPTOR, request=True)
    assert len(sizes.model_validate({"sizes": [1.0] * 5000}).model_dump()["sizes"]) == 5000


def test_resolved_limits_become_maximum_and_max_items(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    limits = {
        "simulation.max_nodes": 1234.0,
        "simulation.abilities_max_sizes": 17.0,
        "fitting.max_points": 99.0,
    }
    out = resolve_limits(spec, limits)["components"]["schemas"]
    n = out["SampleGraphRequest"]["properties"]["n"]["anyOf"][0]
    assert n["maximum"] == 1234 and n[MAXIMUM_LIMIT] == "simulation.max_nodes"
    sizes = out["SimulateAbilitiesRequest"]["properties"]["sizes"]
    assert sizes["maxItems"] == 17 and sizes[MAX_ITEMS_LIMIT] == "simulation.abilities_max_sizes"
    x = out["FitPowerLawRequest"]["properties"]["x"]
    assert x["maxItems"] == 99
    # The input is left as it was (the app caches its schema).
    assert "maxItems" not in spec["components"]["schemas"]["FitPowerLawRequest"]["properties"]["x"]


def test_readiness_statuses_are_an_enum_and_the_answer_is_one(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["Readiness"]["properties"]["status"]["enum"] == [
        "ready",
        "degraded",
        "unavailable",
    ]
    reply = client.get("/readyz")  # nothing listens at the targets
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {
        "simulation": "unavailable",
        "fitting": "unavailable",
        "redis": "unavailable",
        "jobs": "unavailable",
    }
    reasons = body["reasons"]
    assert reasons[:3] == [
        "zuhur.v1.Simulation is not serving",
        "zuhur.v1.Fitting is not serving",
        "result cache unavailable: results are computed again",
    ]
    assert reasons[3].startswith("jobs store unavailable: ") and len(reasons) == 4
    info = schemas["InfoResponseOut"]["properties"]
    assert info["limits"]["description"].startswith("Configured work limits")
