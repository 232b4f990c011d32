"""Bounds both processes apply: how deep a JSON value may nest (the shim's bodies,
the server's schemas) and how long an error message may be.

protobuf refuses messages nested past 100 levels, so a Struct deeper than that cannot
even reach the server: it failed there as an undecodable message. The limit sits well
below, and both processes check it with the same function.
"""

from __future__ import annotations

from typing import Any

MAX_JSON_DEPTH = 64
# Error messages that quote client input are cut to this many characters: gRPC carries
# the message in a header, and past its 16 KiB limit the call failed as UNAVAILABLE
# (an invalid 1 MB schema, repeated in its own error).
MAX_ERROR_CHARS = 1024


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a JSON value (a scalar is 0), stopping early past `limit`.
    Iterative: a deep value must not exhaust Python's recursion limit here either."""
    depth, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        elif not isinstance(v, list):
            continue
        depth = max(depth, d)
        if depth > limit:
            return depth
        stack.extend((x, d + 1) for x in v)
    return depth


def clip(message: str) -> str:
    """An error message bounded in size."""
    if len(message) <= MAX_ERROR_CHARS:
        return message
    return message[: MAX_ERROR_CHARS - 3] + "..."
