"""Go's view of template data: JSON values, truthiness, printing, field access, and the
functions Ollama's templates call."""

from __future__ import annotations

import datetime as _dt
import json as _json
import re
from typing import Any

from server.template.gotemplate.parse import TemplateError
from tokenwire_common import gojson


class GoJSON:
    """A value Go prints as JSON (Ollama's Tools and tool-call Arguments types)."""

    def __init__(self, value: Any):
        self.value = value

    def __str__(self) -> str:
        return go_json(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return iter(self.value)

    def __getitem__(self, key):
        return self.value[key]

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, GoJSON) else other)

    __hash__ = None  # type: ignore[assignment]


def _plain(v: Any) -> Any:
    if isinstance(v, GoJSON):
        return _plain(v.value)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def go_json(v: Any) -> str:
    """encoding/json.Marshal: compact, HTML-escaped."""
    return gojson.dumps(_plain(v))


def truthy(v: Any) -> bool:
    if isinstance(v, GoJSON):
        v = v.value
    if v is None or v is False:
        return False
    if isinstance(v, int | float) and not isinstance(v, bool):
        return v != 0
    if isinstance(v, str | list | tuple | dict):
        return len(v) > 0
    return True


def go_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    if isinstance(v, list | tuple):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k])}" for k in sorted(v)) + "]"
    return str(v)


def _json_key(go_name: str) -> str:
    """Go field name -> Ollama's JSON key (ToolCalls -> tool_calls, ID -> id, Defs -> $defs)."""
    if go_name == "Defs":
        return "$defs"
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", go_name).lower()


def wrap(v: Any) -> Any:
    return GoJSON(v) if isinstance(v, dict | list) else v


def get_field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, GoJSON):
        # Values decoded from API JSON (tools, tool calls): Go field names map to JSON keys.
        inner = obj.value
        if not isinstance(inner, dict):
            return None
        return wrap(inner[name] if name in inner else inner.get(_json_key(name)))
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _ts_type(v: Any) -> str:
    # Ollama's toTypeScriptType for tool parameter schemas (a JSON-schema type string or list).
    t = get_field(v, "type") if not isinstance(v, str | list) else v
    types = t if isinstance(t, list) else [t]
    mapping = {
        "string": "string",
        "number": "number",
        "integer": "number",
        "boolean": "boolean",
        "array": "any[]",
        "object": "Record<string, any>",
        "null": "null",
    }
    out = [mapping.get(x, "any") for x in types if x]
    return " | ".join(out) or "any"


def _printf(fmt: str, *args: Any) -> str:
    it = iter(args)

    def repl(m: re.Match) -> str:
        if m.group(0) == "%%":
            return "%"
        v = next(it, None)
        verb = m.group(1)
        if verb == "q":
            return _json.dumps(go_str(v))
        if verb == "d":
            return str(int(v or 0))
        return go_str(v)

    return re.sub(r"%%|%[-+# 0-9.]*([a-zA-Z])", repl, fmt)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, GoJSON):
        a = a.value
    if isinstance(b, GoJSON):
        b = b.value
    try:
        return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
    except TypeError:
        raise TemplateError(f"template: error calling {op}: incompatible types for comparison") from None


def _index(v: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(v, GoJSON):
            v = v.value
        if isinstance(v, dict):
            v = v.get(k)
        elif isinstance(v, list | tuple | str):
            if not isinstance(k, int) or not 0 <= k < len(v):
                raise TemplateError(f"template: error calling index: index out of range: {k}")
            v = v[k]
        else:
            raise TemplateError("template: error calling index: can't index item")
    return v


def _slice(v: Any, *idx: Any) -> Any:
    if isinstance(v, GoJSON):
        v = v.value
    start = idx[0] if idx else 0
    end = idx[1] if len(idx) > 1 else len(v)
    if not 0 <= start <= end <= len(v):
        raise TemplateError("template: error calling slice: index out of range")
    return v[start:end]


FUNCS: dict[str, Any] = {
    "not": lambda a: not truthy(a),
    "len": lambda a: len(a.value if isinstance(a, GoJSON) else a) if a is not None else 0,
    "index": _index,
    "slice": _slice,
    "json": go_json,
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": _printf,
    "eq": lambda a, *bs: any(_plain(a) == _plain(b) for b in bs),
    "ne": lambda a, b: _plain(a) != _plain(b),
    "lt": lambda a, b: _compare("lt", a, b),
    "le": lambda a, b: _compare("le", a, b),
    "gt": lambda a, b: _compare("gt", a, b),
    "ge": lambda a, b: _compare("ge", a, b),
    "currentDate": lambda *a: _dt.date.today().strftime("%Y-%m-%d"),
    "yesterdayDate": lambda *a: (_dt.date.today() - _dt.timedelta(days=1)).strftime("%Y-%m-%d"),
    "toTypeScriptType": _ts_type,
}
