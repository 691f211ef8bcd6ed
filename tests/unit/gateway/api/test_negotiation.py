"""Content negotiation: RFC 9110 Accept semantics, and the enforced media types are exactly
the documented ones."""

from __future__ import annotations

import pytest

from gateway.api.negotiation import JSON, NegotiatedRoute, preferred, success_media_types
from gateway.api.routes import abilities, fits, graphs, health, jobs, sweeps
from gateway.main import create_app
from gateway.plots.http import wants_svg
from gateway.plots.render import RENDERERS, SVG

# Every router of documented operations, with the prefix it is mounted under (gateway.main).
MOUNTS = [(health.router, ""), (health.v1, "/v1"), (graphs.router, "/v1"), (sweeps.router, "/v1"),
          (fits.router, "/v1"), (abilities.router, "/v1"), (jobs.router, "/v1")]  # fmt: skip


@pytest.mark.parametrize(
    ("accept", "offered", "chosen"),
    [
        ("image/svg+xml", [JSON], ""),  # nothing the operation has
        ("*/*", [JSON], JSON),
        ("application/*", [SVG, JSON], JSON),
        ("image/*", [SVG, JSON], SVG),
        ("image/svg+xml, application/json", [SVG, JSON], JSON),  # a tie: the later one
        ("image/svg+xml, application/json;q=0.5", [SVG, JSON], SVG),
        ("application/json;q=0, */*", [JSON], ""),  # q=0: "not acceptable" (RFC 9110 12.4.2)
        ("text/html,application/xhtml+xml,*/*;q=0.8", [SVG, JSON], JSON),  # a browser page
        ("image/avif,image/webp,image/svg+xml,image/*,*/*;q=0.8", [SVG, JSON], SVG),  # <img>
        ("", [JSON], JSON),  # no preference
        ("not a media type", [JSON], JSON),  # malformed: ignored, not refused
    ],
)
def test_preferred_follows_accept(accept: str, offered: list[str], chosen: str) -> None:
    assert preferred(accept, offered) == chosen


def test_a_picture_only_when_preferred_to_json() -> None:
    assert wants_svg({"accept": SVG}) and not wants_svg({"accept": "*/*"})
    assert not wants_svg({}) and not wants_svg({"accept": f"{SVG};q=0.2, {JSON}"})


def test_every_documented_route_enforces_exactly_the_types_its_openapi_lists() -> None:
    """Every operation of the OpenAPI is a NegotiatedRoute whose enforced types are the
    documented ones, and the routes listing a picture are those a renderer draws for."""
    spec = create_app().openapi()
    operations = {(path, verb) for path, ops in spec["paths"].items() for verb in ops}
    found, svg = set(), set()
    for router, prefix in MOUNTS:
        for route in router.routes:
            assert isinstance(route, NegotiatedRoute), route.path
            if not route.include_in_schema:  # /metrics: undocumented, not negotiated
                continue
            path, offered = prefix + route.path, success_media_types(route)
            for verb in route.methods:
                responses = spec["paths"][path][verb.lower()]["responses"]
                documented = responses[str(route.status_code or 200)].get("content", {})
                assert set(offered) == set(documented), path
                found.add((path, verb.lower()))
            if SVG in offered:
                svg.add(route.name)
    assert found == operations  # no documented operation escapes negotiation
    assert svg == set(RENDERERS) and len(svg) == 10
