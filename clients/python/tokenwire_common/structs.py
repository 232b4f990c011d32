"""Undoing google.protobuf.Struct's one lossy step: every number travels as a double."""

from __future__ import annotations

from typing import Any


def whole_numbers_as_ints(v: Any) -> Any:
    """Recursively turn integral floats (20.0) back into ints (20), as Go's JSON writes them."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**63:
        return int(v)
    if isinstance(v, dict):
        return {k: whole_numbers_as_ints(x) for k, x in v.items()}
    if isinstance(v, list):
        return [whole_numbers_as_ints(x) for x in v]
    return v
