"""create_app(settings): the FastAPI app. Its lifespan owns the grpc.aio channel.

The shim knows nothing of server/: it only holds a gRPC channel and the generated stubs.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from rest_shim import metrics, streaming
from rest_shim.errors import ShimError
from rest_shim.hygiene import Hygiene
from rest_shim.routes import anthropic, inference, models, openai, responses, root
from rest_shim.settings import Settings
from tokenwire.v1 import inference_pb2_grpc, models_pb2_grpc, status_pb2_grpc
from tokenwire_common import tracing, wire
from tokenwire_common.wire import MESSAGE_SIZE_OPTIONS


@dataclass
class Stubs:
    inference: inference_pb2_grpc.InferenceServiceStub
    models: models_pb2_grpc.ModelServiceStub
    version: models_pb2_grpc.VersionServiceStub
    status: status_pb2_grpc.StatusServiceStub


def create_app(settings: Settings, channel: grpc.aio.Channel | None = None):
    """The FastAPI app inside the HTTP hygiene layer (CORS, Host check), counted by
    route and status (rest_shim/metrics.py). Its calls go over `channel` when given (the
    server's in-process one), else over a channel to TOKENWIRE_GRPC_ADDR."""
    hygiene = Hygiene(_fastapi_app(settings, channel), origins=settings.origins, listen_host=settings.host)
    return metrics.HTTPMetrics(hygiene) if settings.metrics else hygiene


def _fastapi_app(settings: Settings, given: grpc.aio.Channel | None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        channel = given or _channel(settings)
        app.state.stubs = Stubs(
            inference=inference_pb2_grpc.InferenceServiceStub(channel),
            models=models_pb2_grpc.ModelServiceStub(channel),
            version=models_pb2_grpc.VersionServiceStub(channel),
            status=status_pb2_grpc.StatusServiceStub(channel),
        )
        try:
            yield
        finally:
            await channel.close()

    # FastAPI's own OpenTelemetry support makes the HTTP span (its parent from the
    # caller's traceparent, its name the route template) when tracing is on; the routes'
    # gRPC calls carry its context on (calls.options). Its metrics, logs and per-step
    # spans stay off: /metrics has the shim's, and a span per dependency is noise.
    telemetry = {"tracing": tracing.enabled(), "metrics": False, "logs": False,
                 "operation_spans": False, "auto_configure": False}  # fmt: skip
    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None, telemetry=telemetry)
    app.state.settings = settings
    app.include_router(root.router)
    app.include_router(inference.router)
    app.include_router(models.router)
    app.include_router(openai.router)
    app.include_router(anthropic.router)
    app.include_router(responses.router)
    app.add_api_route("/metrics", metrics.metrics, methods=["GET"], include_in_schema=False)

    @app.exception_handler(ShimError)
    async def shim_error(request: Request, exc: ShimError) -> Response:
        return _envelope(request, exc.status, exc.message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # A bug, not the client's mistake: logged by Starlette, and answered in the
        # route's JSON envelope (never Starlette's plain-text page).
        return _envelope(request, 500, "internal error in the REST shim")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # gin's words for unknown routes and methods, but in the API's JSON envelope:
        # SDKs parse every error body as JSON (a plain-text 404 on /v1/responses broke them).
        if exc.status_code == 404:
            return _envelope(request, 404, "404 page not found")
        if exc.status_code == 405:
            return _envelope(request, 405, "405 method not allowed")
        return _envelope(request, exc.status_code, str(exc.detail))

    return app


def _service_config(policy: str) -> str:
    """Client-side balancing over the servers the target resolves to. Health checking
    takes a NOT_SERVING (draining) server out before its port closes; ring_hash hashes
    on the model header (gRFC A76), so each model stays on one server."""
    lb: dict = (
        {"ring_hash_experimental": {"requestHashHeader": wire.MODEL_HEADER}}
        if policy == "ring_hash"
        else {policy: {}}
    )
    return json.dumps({"loadBalancingConfig": [lb], "healthCheckConfig": {"serviceName": ""}})


def _channel(settings: Settings) -> grpc.aio.Channel:
    options = [
        *MESSAGE_SIZE_OPTIONS,
    ]
    if settings.grpc_lb != "pick_first":
        options.append(("grpc.service_config", _service_config(settings.grpc_lb)))
    if not settings.grpc_tls:
        return grpc.aio.insecure_channel(settings.grpc_target, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=settings.grpc_ca.read_bytes() if settings.grpc_ca else None,
        private_key=settings.grpc_client_key.read_bytes() if settings.grpc_client_key else None,
        certificate_chain=settings.grpc_client_cert.read_bytes() if settings.grpc_client_cert else None,
    )
    return grpc.aio.secure_channel(settings.grpc_target, credentials, options=options)


def _envelope(request: Request, status: int, message: str) -> Response:
    """An error in the envelope of the API the path belongs to."""
    if request.url.path == "/v1/messages":
        return anthropic.anthropic_error(status, message)
    if request.url.path.startswith("/v1/"):
        return openai.openai_error(status, message)
    return streaming.error_response(status, message)
