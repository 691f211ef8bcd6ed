"""Register a computing route from the proto contract: JSON model in, message out.

Every computing route has the same shape, so one factory builds them from the request and
response message types, the upstream method and an example; the body model and the OpenAPI
schema come from the proto descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from google.protobuf.message import Message

from gateway.api.cached_call import respond
from gateway.api.deps import ContextDep
from gateway.api.hit_path import HitRoute
from gateway.core.errors import ERROR_RESPONSES
from gateway.core.protojson import model_for
from gateway.plots.http import picture_responses


@dataclass(frozen=True)
class ComputeMethod:
    """One computing route's upstream: request type, service, RPC, and for a server stream
    the final event's result field. Jobs run the same methods by these records."""

    request_type: type[Message]
    service: str
    method: str
    stream_field: str | None = None


# Every computing route registered so far, by gRPC method name (jobs look methods up here).
COMPUTE_METHODS: dict[str, ComputeMethod] = {}
# The routes whose cached hits the hot path answers, by path below the API prefix.
HIT_ROUTES: dict[str, HitRoute] = {}


def add_hit_route(path: str, body_model: Any, method: ComputeMethod) -> None:
    """Let the hot path (``gateway.api.hit_path``) answer cached hits of ``POST path``."""
    HIT_ROUTES[path] = HitRoute(path, body_model, method.request_type, method.service,
                                method.method, method.stream_field)  # fmt: skip


def hit_routes(prefix: str) -> dict[str, HitRoute]:
    """The hot path's routes under the API ``prefix`` (``/v1``), by full path."""
    return {prefix + p: replace(r, template=prefix + p) for p, r in HIT_ROUTES.items()}


def add_compute_route(
    router: APIRouter,
    path: str,
    request_type: type[Message],
    response_type: type[Message],
    service: str,
    method: str,
    summary: str,
    example: dict[str, Any],
) -> None:
    """``POST {router.prefix}{path}``: validate JSON as ``request_type``, call ``method``."""
    body_model: Any = model_for(request_type.DESCRIPTOR, request=True)
    COMPUTE_METHODS[method] = ComputeMethod(request_type, service, method)
    add_hit_route(router.prefix + path, body_model, COMPUTE_METHODS[method])

    async def endpoint(body: Any, request: Request, ctx: Any) -> Response:
        return await respond(ctx, request, body, request_type, service, method)

    # Real objects, not strings: the body model exists only in this closure.
    endpoint.__annotations__ = {
        "body": Annotated[body_model, Body(examples=[example])],
        "request": Request,
        "ctx": ContextDep,
        "return": Response,
    }
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=model_for(response_type.DESCRIPTOR, request=False),
        responses={**ERROR_RESPONSES, **picture_responses(method, "The result")},
        summary=summary.split(".")[0],
        description=summary,
        name=method,
    )
