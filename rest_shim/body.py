"""Reading JSON request bodies as Ollama's Go server does, with its errors, and never
a 5xx for a client's bytes.

Go's encoding/json replaces invalid UTF-8 and lone surrogate escapes with U+FFFD
and refuses NaN and Infinity; Python's json would pass the first two on (and
protobuf would then fail to encode them) and accept the last two. Nesting is
bounded before anything walks the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from rest_shim.errors import ShimError
from tokenwire_common.limits import MAX_JSON_DEPTH, clip, json_depth

T = TypeVar("T")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Mistakes in a body's inner shapes that a codec can only meet while converting it
# (a number too large for its protobuf field, a list where an object belongs, ...).
_DECODE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError)


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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


def parse_json(raw: bytes) -> Any:
    """JSON bytes -> value, as Go decodes them; ShimError(400) for what Go refuses."""
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise ShimError(400, f"invalid character in JSON at offset {e.pos}: {e.msg}") from None
    except ValueError as e:  # NaN, Infinity
        raise ShimError(400, str(e)) from None
    except RecursionError:
        raise ShimError(400, f"json: exceeded max depth of {MAX_JSON_DEPTH}") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ShimError(400, f"json: exceeded max depth of {MAX_JSON_DEPTH}")
    if _SURROGATE_ESCAPE.search(raw):
        value = _replace_surrogates(value)
    return value


async def read_json(request: Request, struct: str) -> dict[str, Any]:
    raw = await _body(request)
    if not raw.strip():
        raise ShimError(400, "missing request body")
    body = parse_json(raw)
    if not isinstance(body, dict):
        kind = "array" if isinstance(body, list) else type(body).__name__
        raise ShimError(400, f"json: cannot unmarshal {kind} into Go value of type api.{struct}")
    return body


async def decode(request: Request, struct: str, codec: Callable[[dict[str, Any]], T]) -> T:
    """Read a route's JSON body and convert it with its codec. Whatever the codec
    meets in a malformed body is the client's mistake: a 400 naming the type, never
    a 500."""
    body = await read_json(request, struct)
    try:
        return codec(body)
    except ShimError:
        raise
    except _DECODE_ERRORS as e:
        message = f"json: cannot unmarshal into Go value of type api.{struct}: {e}"
        raise ShimError(400, clip(message)) from None
