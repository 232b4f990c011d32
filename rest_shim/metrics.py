"""GET /metrics: the shim's HTTP metrics and, for a shim in front of one server, the
engine's (StatusService.GetMetrics), in one scrape: what ollama/ollama#3144 asked for.

The HTTP families are labelled by route template (`/api/chat`, never the raw path) and
status; paths no route matches are `other`, so the label stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import grpc
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from rest_shim import calls
from tokenwire.v1 import status_pb2

Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "tokenwire_http_requests",
    "HTTP requests the REST shim answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "tokenwire_http_request_duration_seconds",
    "From the request's arrival to the end of its response body (a whole stream).",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
ENGINE_SCRAPE_ERRORS = Counter(
    "tokenwire_shim_engine_scrape_errors",
    "Scrapes of /metrics that could not include the engine's metrics.",
    registry=REGISTRY,
)


class HTTPMetrics:
    """ASGI middleware: one count and one duration per HTTP request."""

    def __init__(self, app: ASGI):
        self._app = app

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "other")
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(path, method, str(status)).inc()
            HTTP_DURATION.labels(path, method).observe(time.perf_counter() - start)


async def metrics(request: Request) -> Response:
    body = generate_latest(REGISTRY)
    if request.app.state.settings.engine_metrics:
        try:
            reply = await request.app.state.stubs.status.GetMetrics(
                status_pb2.GetMetricsRequest(), timeout=5, metadata=calls.credentials(request) or None
            )
            body += reply.text.encode()
        except grpc.RpcError:
            ENGINE_SCRAPE_ERRORS.inc()
            body = generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
