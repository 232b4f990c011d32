"""The Python runner of clients/conformance/cases.json (format: its README.md).

Each step calls tokenwire_client.Client, turns the answer into Ollama's JSON shape and
checks the step's expectations. Pure apart from the client calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import tokenwire_client
from tokenwire_client import ResponseError

CASES_FILE = Path(__file__).resolve().parents[2] / "conformance" / "cases.json"
STREAMING = frozenset({"generate", "chat", "create", "pull", "push"})
# ollama-python spells these arguments differently from Ollama's JSON.
PY_ARGS = {"from": "from_"}
# ...and these response fields (pydantic aliases).
JSON_KEYS = {"modelinfo": "model_info"}
_VAR = re.compile(r"\$\{(\w+)\}")


def load() -> dict[str, Any]:
    return json.loads(CASES_FILE.read_text())


def substitute(value: Any, names: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole:
            return names[whole.group(1)]
        return _VAR.sub(lambda m: str(names[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
    return value


_MISSING = object()


def resolve(doc: Any, pointer: str) -> Any:
    """RFC 6901 JSON Pointer; _MISSING when a step of it does not exist."""
    if pointer == "":
        return doc
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return _MISSING
    return doc


_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}


def _is_type(value: Any, name: str) -> bool:
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def holds(doc: Any, expectation: Mapping[str, Any]) -> str | None:
    """None when the expectation holds; otherwise why not."""
    at = expectation["at"]
    value = resolve(doc, at)
    (op, want), *_ = [(k, v) for k, v in expectation.items() if k != "at"]
    if value is _MISSING:
        return f"{at}: missing"
    ok = {
        "equals": lambda: value == want,
        "one_of": lambda: value in want,
        "at_most": lambda: _is_type(value, "number") and value <= want,
        "at_least": lambda: _is_type(value, "number") and value >= want,
        "length": lambda: isinstance(value, list | str) and len(value) == want,
        "min_length": lambda: isinstance(value, list | str) and len(value) >= want,
        "type": lambda: _is_type(value, want),
        "matches": lambda: isinstance(value, str) and re.search(want, value) is not None,
        "contains": lambda: isinstance(value, list) and want in value,
        "has_item": lambda: isinstance(value, list) and any(_all_hold(v, want) for v in value),
        "has_no_item": lambda: isinstance(value, list) and not any(_all_hold(v, want) for v in value),
        "each": lambda: isinstance(value, list) and all(_all_hold(v, want) for v in value),
    }[op]()
    return None if ok else f"{at}: {_show(value)} does not satisfy {op} {_show(want)}"


def _all_hold(doc: Any, expectations: list[Mapping[str, Any]]) -> bool:
    return all(holds(doc, e) is None for e in expectations)


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) < 300 else text[:300] + "..."


def document(answer: Any) -> Any:
    """A tokenwire_client response as Ollama's JSON shapes it."""
    if isinstance(answer, tokenwire_client._types.SubscriptableModel):
        return {JSON_KEYS.get(k, k): document(v) for k, v in answer.model_dump(exclude_none=True).items()}
    if isinstance(answer, dict):
        return {JSON_KEYS.get(k, k): document(v) for k, v in answer.items()}
    if isinstance(answer, list):
        return [document(v) for v in answer]
    if isinstance(answer, datetime):
        return answer.isoformat()
    return answer


def stream_document(chunks: list[Any]) -> dict[str, Any]:
    text = "".join(c.get("response") or (c.get("message") or {}).get("content") or "" for c in chunks)
    return {
        "chunks": chunks,
        "last": chunks[-1] if chunks else None,
        "before_last": chunks[:-1],
        "count": len(chunks),
        "text": text,
    }


def run_step(client: tokenwire_client.Client, step: Mapping[str, Any], names: dict[str, Any]) -> None:
    """One step; raises AssertionError with the reason when the answer is wrong."""
    args = {PY_ARGS.get(k, k): v for k, v in substitute(step.get("args", {}), names).items()}
    method = getattr(client, step["call"])
    streamed = step["call"] in STREAMING and args.get("stream") is True
    try:
        answer = method(**args, timeout=step.get("timeout_s"))
        if streamed:
            chunks = []
            for part in answer:
                chunks.append(document(part))
                if len(chunks) == step.get("leave_after"):
                    answer.close()
                    break
            doc = stream_document(chunks)
        else:
            doc = document(answer)
    except ResponseError as e:
        want = substitute(step.get("expect_error"), names)
        assert want is not None, f"{step['call']}: unexpected error {e!r}"
        got = {"code": e.code.name, "status_code": e.status_code, "message": e.error}
        assert {k: got[k] for k in want} == want, f"{step['call']}: error {got} is not {want}"
        return
    assert "expect_error" not in step, f"{step['call']}: expected {step['expect_error']}, got an answer"
    failures = [why for e in substitute(step.get("expect", []), names) if (why := holds(doc, e))]
    assert not failures, f"{step['call']}: " + "; ".join(failures)
    for name, pointer in step.get("save", {}).items():
        names[name] = resolve(doc, pointer)
