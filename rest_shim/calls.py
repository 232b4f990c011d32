"""What every gRPC call of a route carries: the route's deadline and the caller's
credentials, passed on untouched so the server is the one place that decides.

`Authorization` (Basic, or Bearer as the OpenAI SDKs send) goes as gRPC's
`authorization`; Anthropic's `x-api-key` becomes `Bearer <key>`. Every call about a
model also carries it in `x-tokenwire-model`, for proxies that route by model.
"""

from __future__ import annotations

import random
from typing import Any

from fastapi import Request

from tokenwire_common import tracing, wire


def _printable(value: str) -> bool:
    # gRPC metadata values are printable ASCII; anything else could not be sent, and
    # is not a credential we accept anyway (the server then answers UNAUTHENTICATED).
    return all(" " <= c <= "~" for c in value)


def credentials(request: Request) -> list[tuple[str, str]]:
    authorization = request.headers.get("authorization")
    if authorization is None and (key := request.headers.get("x-api-key")):
        authorization = f"Bearer {key}"
    if authorization and _printable(authorization):
        return [("authorization", authorization)]
    return []


def routing_key(model: str, spread: int) -> str:
    """What the model header carries: the model, or with TOKENWIRE_MODEL_SPREAD = N > 1
    `model#k` for a random k below N, so a hashing proxy spreads the model's requests
    over about N replicas (each keeps it warm) instead of one."""
    return model if spread <= 1 or not model else f"{model}#{random.randrange(spread)}"


def options(request: Request, route: str | None = None, model: str = "") -> dict[str, Any]:
    """Keyword arguments for a stub call: timeout (TOKENWIRE_DEADLINE_<ROUTE>) and
    metadata: the caller's credentials and the model header a proxy routes by."""
    settings = request.app.state.settings
    timeout = settings.deadline(route) if route else None
    metadata = credentials(request) + list(wire.model_header(routing_key(model, settings.model_spread)))
    metadata += tracing.inject()  # traceparent, when tracing is on
    return {"timeout": timeout, "metadata": metadata or None}
