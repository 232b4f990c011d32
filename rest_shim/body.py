"""Reading Ollama JSON request bodies, with Ollama's errors."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from rest_shim.errors import ShimError


async def read_json(request: Request, struct: str) -> dict[str, Any]:
    raw = await request.body()
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
