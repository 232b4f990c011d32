"""Reading Ollama JSON request bodies, with Ollama's errors."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from rest_shim.errors import ShimError


async def _body(request: Request) -> bytes:
    """The body, refusing (413) more than the configured limit before reading it all."""
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ShimError(413, "http: request body too large")
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ShimError(413, "http: request body too large")
        parts.append(chunk)
    return b"".join(parts)


async def read_json(request: Request, struct: str) -> dict[str, Any]:
    raw = await _body(request)
    if not raw.strip():
        raise ShimError(400, "missing request body")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ShimError(400, f"invalid character in JSON at offset {e.pos}: {e.msg}") from None
    if not isinstance(body, dict):
        kind = "array" if isinstance(body, list) else type(body).__name__
        raise ShimError(400, f"json: cannot unmarshal {kind} into Go value of type api.{struct}")
    return body
