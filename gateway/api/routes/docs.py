"""The API's documentation: OpenAPI with the services' live limits, Swagger UI and ReDoc.

The UI assets are served from the installed ``fastapi_standalone_docs`` package (Swagger UI
and ReDoc builds with their licences; its ReDoc is patched to load the Redocly logo from the
page's own path instead of cdn.redoc.ly), so the pages load with no request leaving the
gateway. The limits come from each service's
Info RPC on every ``/openapi.json`` request: the services are configured on their own
(ZUHUR_SIMULATION_LIMITS__*, ZUHUR_FITTING_LIMITS__*), so only they know what they enforce;
asking them keeps the schema true after a reconfiguration and needs no service code here.
"""

from __future__ import annotations

import asyncio
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from gateway.api.deps import SettingsDep, UpstreamsDep
from gateway.core.clients import FITTING, SIMULATION, Upstreams
from gateway.core.errors import document_refusals
from gateway.core.protojson import MAX_ITEMS_LIMIT, MAXIMUM_LIMIT

ASSETS_URL = "/docs-assets"
ASSETS_DIR = files("fastapi_standalone_docs") / "static"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
# Prefix of each service's limits in the proto comments' SERVICE.KEY names.
LIMIT_PREFIX = {SIMULATION: "simulation", FITTING: "fitting"}
# No validator badge: Swagger UI would fetch it from validator.swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
# The browser itself refuses anything not from the gateway (the pages' inline bootstrap
# script and the UIs' generated styles are inline; ReDoc runs its search in a blob: worker).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'self'"
)

router = APIRouter(include_in_schema=False)


async def service_limits(upstreams: Upstreams, timeout: float) -> dict[str, float]:
    """Every reachable service's configured limits as ``{"SERVICE.KEY": value}``."""
    services = list(LIMIT_PREFIX)
    replies = await asyncio.gather(
        *(upstreams.info(service, timeout) for service in services), return_exceptions=True
    )
    limits: dict[str, float] = {}
    for service, reply in zip(services, replies, strict=True):
        if not isinstance(reply, BaseException):
            limits.update({f"{LIMIT_PREFIX[service]}.{k}": v for k, v in reply.limits.items()})
    return limits


def resolve_limits(schema: Any, limits: dict[str, float]) -> Any:
    """Copy of ``schema`` with each named limit it knows written as ``maximum``/``maxItems``.

    The name stays beside the number (``x-maximum-limit``) so a reader sees it is a setting.
    """
    if isinstance(schema, list):
        return [resolve_limits(item, limits) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: resolve_limits(value, limits) for key, value in schema.items()}
    for marker, keyword in ((MAXIMUM_LIMIT, "maximum"), (MAX_ITEMS_LIMIT, "maxItems")):
        value = limits.get(out.get(marker, ""))
        if value is not None:
            bound = int(value) if value.is_integer() else value
            out[keyword] = min(bound, out.get(keyword, bound))
    return out


@router.get(OPENAPI_URL)
async def openapi(request: Request, upstreams: UpstreamsDep, settings: SettingsDep) -> JSONResponse:
    """The OpenAPI document, with the limits the services report right now."""
    limits = await service_limits(upstreams, settings.health_deadline_seconds)
    spec = resolve_limits(request.app.openapi(), limits)  # a new tree: the cached schema stays
    document_refusals(spec, keys_required=bool(request.app.state.api_keys))
    missing = sorted({name.split(".")[0] for name in unresolved_names(spec, limits)})
    if missing:  # a service is down: say so rather than guess its limits
        spec["info"]["x-limits-unavailable"] = missing
    return JSONResponse(spec)


def unresolved_names(schema: Any, limits: dict[str, float]) -> set[str]:
    """Limit names in ``schema`` that ``limits`` does not hold."""
    names: set[str] = set()
    if isinstance(schema, list):
        for item in schema:
            names |= unresolved_names(item, limits)
    elif isinstance(schema, dict):
        for marker in (MAXIMUM_LIMIT, MAX_ITEMS_LIMIT):
            if marker in schema and schema[marker] not in limits:
                names.add(schema[marker])
        for value in schema.values():
            names |= unresolved_names(value, limits)
    return names


def _self_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI from the gateway's own assets."""
    root = _root(request)
    return _self_only(
        get_swagger_ui_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{request.app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/fastapi/favicon.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
    )


@router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc from the gateway's own assets, without Google Fonts."""
    root = _root(request)
    return _self_only(
        get_redoc_html(
            openapi_url=f"{root}{OPENAPI_URL}",
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/fastapi/favicon.png",
            with_google_fonts=False,
        )
    )


@router.get("/redoc/logo-mini.svg")
async def redoc_logo() -> FileResponse:
    """The logo the patched ReDoc asks for at ``<page>/logo-mini.svg``."""
    return FileResponse(str(ASSETS_DIR / "redoc" / "logo-mini.svg"), media_type="image/svg+xml")


def install(app: FastAPI) -> None:
    """Serve the docs on ``app`` (create the app with docs_url, redoc_url, openapi_url None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")
    app.include_router(router)
