"""Pieces shared by every request and response: field types, options, format, think,
keep_alive, timestamps, messages, metrics."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from rest_shim.errors import ShimError
from tokenwire.v1 import types_pb2
from tokenwire_common.duration import DurationError, keep_alive_from_json
from tokenwire_common.options import OPTION_TYPES
from tokenwire_common.structs import from_struct, to_struct

# ------------------------------------------------------------- request field types

_JSON_KIND = {bool: "bool", str: "string", int: "number", float: "number", list: "array", dict: "object"}


def _kind(v: Any) -> str:
    return _JSON_KIND.get(type(v), "value")


def check_types(body: dict, struct: str, spec: dict[str, str]) -> None:
    """Reject wrong JSON types with Go's decode error, as Ollama's handlers do (400).

    spec maps a key to one of: string, bool, int, float, []int, []string, object, any.
    null is always accepted (Go leaves the zero value); so is null inside a list, where
    Go decodes the element's zero value, which replaces it in `body`.
    """
    for key, go_type in spec.items():
        v = body.get(key)
        if v is None or go_type == "any":
            continue
        if go_type.startswith("[]") and isinstance(v, list) and any(x is None for x in v):
            zero = _ZERO[go_type[2:]]
            v = body[key] = [zero() if x is None else x for x in v]
        if isinstance(v, list) and go_type.startswith("[]"):
            bad = next((x for x in v if not _IS[go_type[2:]](x)), _GOOD)
            if bad is _GOOD:
                continue
            kind, shown = _kind_of(bad, go_type[2:]), _SHOWN.get(go_type, go_type)[2:]
        elif go_type.startswith("[]") or not _IS[go_type](v):
            kind, shown = _kind_of(v, go_type), _SHOWN.get(go_type, go_type)
        else:
            continue
        raise ShimError(
            400, f"json: cannot unmarshal {kind} into Go struct field {struct}.{key} of type {shown}"
        )


_GOOD = object()
_INT64 = (-(2**63), 2**63 - 1)


def _is_int(x: Any) -> bool:
    # Go's int is 64 bits: a larger number does not decode into it.
    return isinstance(x, int) and not isinstance(x, bool) and _INT64[0] <= x <= _INT64[1]


_IS = {
    "string": lambda x: isinstance(x, str),
    "bool": lambda x: isinstance(x, bool),
    "int": _is_int,
    "float": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
    "object": lambda x: isinstance(x, dict),
}
_ZERO = {"int": int, "string": str, "object": dict}
_SHOWN = {"int": "int", "float": "float64", "[]object": "[]api.Message"}


def _kind_of(v: Any, go_type: str) -> str:
    """Go names a number too large for an int by its text: `number 1e+30`."""
    if go_type == "int" and isinstance(v, int) and not isinstance(v, bool):
        return f"number {v}"
    return _kind(v)


# ------------------------------------------------------------- options


def options_to_pb(options: Any) -> types_pb2.Options | None:
    """Ollama's Options.FromMap: unknown keys ignored; wrong types are errors, with
    Ollama's words but 400 (Ollama answers 500 for this mistake of the client's)."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise ShimError(
            400,
            f"json: cannot unmarshal {_kind(options)} into Go struct field"
            " .options of type map[string]interface {}",
        )
    pb = types_pb2.Options()
    for key, value in options.items():
        kind = OPTION_TYPES.get(key)
        if kind is None or value is None:
            continue
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ShimError(400, f'option "{key}" must be of type integer')
            try:
                setattr(pb, key, int(value))
            except (ValueError, OverflowError):  # beyond the field's int32/int64
                raise ShimError(400, f'option "{key}" is out of range: {value}') from None
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ShimError(400, f'option "{key}" must be of type float32')
            setattr(pb, key, float(value))
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ShimError(400, f'option "{key}" must be of type boolean')
            setattr(pb, key, value)
        else:
            if not isinstance(value, list):
                raise ShimError(400, f'option "{key}" must be of type array')
            if not all(isinstance(v, str) for v in value):
                raise ShimError(400, f'option "{key}" must be of type an array of strings')
            pb.stop.extend(value)
    return pb


# ------------------------------------------------------------- format, think, keep_alive


def format_to_pb(value: Any) -> types_pb2.Format | None:
    if value is None or value == "":
        return None
    if value == "json":
        return types_pb2.Format(json=True)
    if isinstance(value, dict):
        return types_pb2.Format(schema=to_struct(value))
    shown = value if isinstance(value, str) else str(value)
    raise ShimError(400, f'invalid format: "{shown}"; expected "json" or a valid JSON Schema object')


_THINK_LEVELS = {
    "low": types_pb2.THINK_LEVEL_LOW,
    "medium": types_pb2.THINK_LEVEL_MEDIUM,
    "high": types_pb2.THINK_LEVEL_HIGH,
    "max": types_pb2.THINK_LEVEL_MAX,
}


def think_to_pb(value: Any) -> types_pb2.Think | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return types_pb2.Think(enabled=value)
    if isinstance(value, str) and value in _THINK_LEVELS:
        return types_pb2.Think(level=_THINK_LEVELS[value])
    if isinstance(value, str) and value in ("true", "false"):
        return types_pb2.Think(enabled=value == "true")
    raise ShimError(
        400, f'invalid think value: "{value}" (must be "high", "medium", "low", "max", true, or false)'
    )


def keep_alive_to_ns(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return keep_alive_from_json(value)
    except DurationError as e:
        raise ShimError(400, str(e)) from None


# ------------------------------------------------------------- images and messages


def images_to_bytes(images: Any, struct: str) -> list[bytes]:
    if images is None:
        return []
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ShimError(
            400,
            f"json: cannot unmarshal {_kind(images)} into Go struct field"
            f" {struct}.images of type []api.ImageData",
        )
    out = []
    for img in images:
        try:
            out.append(base64.b64decode(img, validate=True))
        except (binascii.Error, ValueError) as e:
            raise ShimError(400, f"illegal base64 data: {e}") from None
    return out


def _struct(value: Any) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    if isinstance(value, dict):
        s.update(value)
    return s


def message_to_pb(m: dict) -> types_pb2.Message:
    check_types(
        m,
        "ChatRequest.messages",
        {
            "role": "string",
            "content": "string",
            "thinking": "string",
            "tool_name": "string",
            "tool_call_id": "string",
        },
    )
    pb = types_pb2.Message(
        role=(m.get("role") or "").lower(),
        content=m.get("content") or "",
        thinking=m.get("thinking") or "",
        images=images_to_bytes(m.get("images"), "ChatRequest.messages"),
        tool_name=m.get("tool_name") or "",
        tool_call_id=m.get("tool_call_id") or "",
    )
    for tc in m.get("tool_calls") or []:
        fn = tc.get("function") or {}
        pb.tool_calls.append(
            types_pb2.ToolCall(
                id=tc.get("id") or "",
                function=types_pb2.ToolCallFunction(
                    index=int(fn.get("index") or 0),
                    name=fn.get("name") or "",
                    arguments=_struct(fn.get("arguments")),
                ),
            )
        )
    return pb


def arguments_text(call: types_pb2.ToolCall) -> str:
    """A tool call's arguments as compact JSON text (OpenAI's and Anthropic's streams)."""
    return json.dumps(from_struct(call.function.arguments), separators=(",", ":"))


def tool_calls_from_pb(calls: Any) -> list[dict]:
    return [
        {
            **({"id": tc.id} if tc.id else {}),
            "function": {
                "index": tc.function.index,
                "name": tc.function.name,
                "arguments": from_struct(tc.function.arguments),
            },
        }
        for tc in calls
    ]


def message_from_pb(m: types_pb2.Message) -> dict:
    d: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.thinking:
        d["thinking"] = m.thinking
    if m.images:
        d["images"] = [base64.b64encode(i).decode() for i in m.images]
    if m.tool_calls:
        d["tool_calls"] = tool_calls_from_pb(m.tool_calls)
    if m.tool_name:
        d["tool_name"] = m.tool_name
    if m.tool_call_id:
        d["tool_call_id"] = m.tool_call_id
    return d


# ------------------------------------------------------------- response pieces


@functools.lru_cache(maxsize=4)
def _rfc3339_seconds(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3339nano(ts: Timestamp) -> str:
    """Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros.

    Called once per streamed chunk; the seconds part is cached (it changes once a second).
    """
    frac = f"{ts.nanos:09d}".rstrip("0")
    return _rfc3339_seconds(ts.seconds) + (f".{frac}" if frac else "") + "Z"


def debug_only_from_pb(pb: Any) -> dict[str, Any]:
    """A `_debug_render_only` answer: only the rendered prompt, as Ollama sends it."""
    return {
        "model": pb.model,
        "created_at": rfc3339nano(pb.created_at),
        "_debug_info": {
            "rendered_template": pb.debug_info.rendered_template,
            "image_count": pb.debug_info.image_count,
        },
    }


DONE_REASONS = {
    types_pb2.DONE_REASON_STOP: "stop",
    types_pb2.DONE_REASON_LENGTH: "length",
    types_pb2.DONE_REASON_LOAD: "load",
    types_pb2.DONE_REASON_UNLOAD: "unload",
}

METRIC_FIELDS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
    # Not Ollama's: of prompt_eval_count, the tokens served from the prefix cache (issue
    # 17). Omitted when zero, like the others, so a cold request reads as Ollama's.
    "prompt_cached_count",
)


def logprobs_json(items: Any, *, always_top: bool = False) -> list[dict[str, Any]]:
    """Ollama's logprobs entries (reference §11): bytes as a list of ints, as Go's []int;
    top_logprobs omitted when empty unless the API always has it (OpenAI)."""

    def entry(e: Any) -> dict[str, Any]:
        return {"token": e.token, "logprob": e.logprob, "bytes": list(e.bytes)}

    out = []
    for e in items:
        d = entry(e)
        if e.top_logprobs or always_top:
            d["top_logprobs"] = [entry(t) for t in e.top_logprobs]
        out.append(d)
    return out


def metrics_from_pb(pb: Any, out: dict) -> None:
    """Ollama's embedded Metrics: each field omitted when zero."""
    for name in METRIC_FIELDS:
        v = getattr(pb, name)
        if v:
            out[name] = v
