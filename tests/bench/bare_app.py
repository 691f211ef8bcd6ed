"""The peer of the gateway's cached hit in bench_hot_path: a bare FastAPI app that reads the
request body as JSON and returns fixed bytes (``ZUHUR_BENCH_BODY_FILE``), with nothing else.

    ZUHUR_BENCH_BODY_FILE=body.json uvicorn --factory tests.bench.bare_app:create_app
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Request, Response


def create_app() -> FastAPI:
    """``POST /v1/graphs/sample``: parse the JSON body, answer the stored bytes."""
    body = Path(os.environ["ZUHUR_BENCH_BODY_FILE"]).read_bytes()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/v1/graphs/sample")
    async def sample(request: Request) -> Response:
        await request.json()
        return Response(body, media_type="application/json", headers={"X-Cache": "HIT"})

    return app
