"""`format` as a llama.cpp grammar: "json" is any JSON object, a schema is compiled to GBNF.

Uses llama-cpp-python's JSON-schema-to-GBNF converter, the same one llama-server uses.
The schema arrives as a protobuf Struct, which has two artefacts we undo here: every
number is a double (maxLength 20.0 breaks the converter), and map order is not kept on
the wire. Property order decides the order the model writes the keys in, so we order
properties by the schema's `required` list (an array, so its order survives), then the
rest alphabetically.
"""

from __future__ import annotations

import json
from typing import Any

from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from server.errors import InvalidArgument
from tokenwire_common.structs import whole_numbers_as_ints


def json_grammar() -> str:
    return JSON_GBNF


def _required_order(schema: Any, out: list[str]) -> list[str]:
    if isinstance(schema, dict):
        for name in schema.get("required") or []:
            if isinstance(name, str) and name not in out:
                out.append(name)
        for v in schema.values():
            _required_order(v, out)
    elif isinstance(schema, list):
        for v in schema:
            _required_order(v, out)
    return out


def schema_grammar(schema: dict) -> str:
    schema = whole_numbers_as_ints(schema)
    try:
        return json_schema_to_gbnf(json.dumps(schema), prop_order=_required_order(schema, []))
    except Exception as e:  # the converter raises plain exceptions on unsupported schemas
        shown = json.dumps(schema)
        raise InvalidArgument(
            f'invalid format: {shown}; expected "json" or a valid JSON Schema object ({e})'
        ) from None
