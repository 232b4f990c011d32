"""google.protobuf.Struct <-> plain JSON values, so no caller builds a Struct by hand.

Struct carries every number as a double; from_struct undoes that one lossy step, as
Go's JSON would print the value (20, not 20.0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    """A JSON object (str keys; JSON values, nested) as a Struct."""
    out = struct_pb2.Struct()
    out.update(dict(value))
    return out


def from_struct(value: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as a dict, whole numbers as ints, key order kept."""
    out: dict[str, Any] = whole_numbers_as_ints(json_format.MessageToDict(value))
    return out


def whole_numbers_as_ints(v: Any) -> Any:
    """Recursively turn integral floats (20.0) back into ints (20), as Go's JSON writes them."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**63:
        return int(v)
    if isinstance(v, dict):
        return {k: whole_numbers_as_ints(x) for k, x in v.items()}
    if isinstance(v, list):
        return [whole_numbers_as_ints(x) for x in v]
    return v
