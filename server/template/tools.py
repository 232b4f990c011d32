"""Tool calls parsed from model output, as Ollama's Go-template path does (tools/tools.go).

The tag that opens a tool call is taken from the template: the first text inside
`{{ if .ToolCalls }}`, cut before any `{` and trimmed (`<tool_call>`, `[TOOL_CALLS]`,
`Action: ```json` ...), or `{` when the template shows none. Text before the tag is
content. After the tag, each call is found by a tool's name appearing in the output
and the first JSON object (at any depth) whose keys are that tool's parameters and
that holds all required ones. Calls are emitted whole, as soon as they parse.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from server.template.gotemplate import Block, Template, Text
from server.template.prompt import _pipe_fields

_ID_ALPHABET = string.ascii_lowercase + string.digits


def tool_call_id() -> str:
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def _first_text(nodes: list[Any]) -> str | None:
    for n in nodes:
        if isinstance(n, Text) and n.text:
            return n.text
        if isinstance(n, Block):
            for body in (n.body, n.else_body or []):
                if (t := _first_text(body)) is not None:
                    return t
    return None


def _tool_calls_block(nodes: list[Any]) -> Block | None:
    for n in nodes:
        if isinstance(n, Block):
            if n.kind == "if" and "ToolCalls" in _pipe_fields(n.pipe):
                return n
            for body in (n.body, n.else_body or []):
                if (found := _tool_calls_block(body)) is not None:
                    return found
    return None


def tool_tag(template: Template) -> str:
    block = _tool_calls_block(template.nodes)
    text = _first_text(block.body) if block is not None else None
    if text is None:
        return "{"
    tag = text.replace("\r\n", "\n").split("{", 1)[0].strip()
    return tag or "{"


def _objects(text: str) -> list[tuple[Any, int]]:
    """Every complete top-level JSON object or array in text, with its end offset."""
    out = []
    decoder = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] in "{[":
            try:
                value, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError:
                i += 1
                continue
            out.append((value, end))
            i = end
        else:
            i += 1
    return out


class ToolParser:
    """Feed output text; get (tool calls, content) back as they become certain."""

    def __init__(self, tag: str, tools: list[dict]):
        self.tag = tag
        self.tools = [t.get("function") or {} for t in tools]
        self.buffer = ""
        self.calling = False
        self.done = False
        self.n = 0

    def add(self, text: str) -> tuple[list[dict], str]:
        if self.done:
            return [], text
        self.buffer += text
        content = ""
        if not self.calling:
            i = self.buffer.find(self.tag)
            if i < 0:
                keep = self._partial_tag_suffix()
                content, self.buffer = (
                    self.buffer[: len(self.buffer) - keep],
                    self.buffer[len(self.buffer) - keep :],
                )
            else:
                content, self.buffer = self.buffer[:i], self.buffer[i:]
            if self.tag in ("{", "[") and content.strip():
                # JSON-style models: a call only counts when the output starts with it.
                self.done = True
                content, self.buffer = content + self.buffer, ""
                return [], content
            if i < 0:
                return [], content
            self.calling = True
            if self.tag not in ("{", "["):
                self.buffer = self.buffer[len(self.tag) :]
        calls = []
        while (call := self._parse_one()) is not None:
            calls.append(call)
        return calls, content

    def flush(self) -> str:
        """At the end: text held back that turned out not to be a tool call."""
        rest, self.buffer = self.buffer, ""
        if self.done:
            return rest
        if not self.calling:
            return rest
        return "" if self.n else (self.tag if self.tag not in ("{", "[") else "") + rest

    def _partial_tag_suffix(self) -> int:
        for k in range(min(len(self.tag) - 1, len(self.buffer)), 0, -1):
            if self.tag.startswith(self.buffer[-k:]):
                return k
        return 0

    def _find_tool(self) -> tuple[dict, int] | None:
        best = None
        for fn in self.tools:
            name = fn.get("name") or ""
            i = self.buffer.find(name) if name else -1
            if i >= 0 and (
                best is None or i < best[1] or (i == best[1] and len(name) > len(best[0]["name"]))
            ):
                best = (fn, i)
        return best

    def _parse_one(self) -> dict | None:
        found = self._find_tool()
        if found is None:
            return None
        fn, at = found
        end_name = at + len(fn["name"])
        for value, end in _objects(self.buffer):
            args = _arguments(value, fn.get("parameters") or {})
            if args is not None:
                self.buffer = self.buffer[max(end, end_name) :]
                call = {
                    "id": tool_call_id(),
                    "function": {"index": self.n, "name": fn["name"], "arguments": args},
                }
                self.n += 1
                return call
        return None


def _arguments(value: Any, parameters: dict) -> dict | None:
    """The first object whose keys are all parameters and which has every required one."""
    props = parameters.get("properties") or {}
    required = parameters.get("required") or []
    if isinstance(value, dict):
        if all(k in props for k in value) and all(r in value for r in required):
            return value
        for v in value.values():
            if (found := _arguments(v, parameters)) is not None:
                return found
    elif isinstance(value, list):
        for v in value:
            if (found := _arguments(v, parameters)) is not None:
                return found
    return None
