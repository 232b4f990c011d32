"""What every gRPC call of a route carries: the route's deadline and the caller's
credentials, passed on untouched so the server is the one place that decides.

`Authorization` (Basic, or Bearer as the OpenAI SDKs send) goes as gRPC's
`authorization`; Anthropic's `x-api-key` becomes `Bearer <key>`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request


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


def options(request: Request, route: str | None = None) -> dict[str, Any]:
    """Keyword arguments for a stub call: timeout (TOKENWIRE_DEADLINE_<ROUTE>) and metadata."""
    timeout = request.app.state.settings.deadline(route) if route else None
    return {"timeout": timeout, "metadata": credentials(request) or None}
