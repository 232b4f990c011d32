"""GET/HEAD / and GET/HEAD /api/version."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from rest_shim import calls, streaming
from tokenwire.v1 import models_pb2

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"])
async def root() -> Response:
    return PlainTextResponse("Ollama is running")


@router.api_route("/api/version", methods=["GET", "HEAD"])
async def version(request: Request) -> Response:
    stub = request.app.state.stubs.version
    return await streaming.unary(
        request,
        stub.GetVersion(models_pb2.GetVersionRequest(), **calls.options(request)),
        lambda r: {"version": r.version},
    )
