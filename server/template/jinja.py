"""The GGUF's own Jinja `tokenizer.chat_template`, rendered in a sandbox.

Used when a model has no TEMPLATE layer (Ollama then lets llama-server apply the
chat_template natively). The environment is jinja2's ImmutableSandboxedEnvironment
with the globals Hugging Face's apply_chat_template provides (`raise_exception`,
`strftime_now`, `bos_token`, `eos_token`, `add_generation_prompt`, `tools`), and the
messages in the OpenAI/HF shape (tool-call arguments as objects).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from server.errors import InvalidArgument
from server.template.capabilities import jinja_capabilities
from server.template.prompt import ChatMessage


def _raise(message: str) -> None:
    raise InvalidArgument(f"chat template error: {message}")


def _tojson(
    value: Any, indent: int | None = None, ensure_ascii: bool = False, sort_keys: bool = False
) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys)


@lru_cache(maxsize=16)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as e:
        raise InvalidArgument(f"chat template error: {e}") from None


class JinjaChatTemplate:
    """A chat_template with the render signature of the Go-template path."""

    def __init__(self, source: str, bos_token: str = "", eos_token: str = ""):
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.template = _compile(source)

    def supports(self, capability: str) -> bool:
        return capability in jinja_capabilities(self.source)

    def tool_tag(self) -> str:
        return "<tool_call>" if "<tool_call>" in self.source else "{"

    def render(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[dict] | None = None,
        think: bool | None = None,
        think_level: str = "",
        **_: Any,
    ) -> str:
        variables: dict[str, Any] = {
            "messages": [_message(m) for m in messages],
            "add_generation_prompt": True,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        if tools:
            variables["tools"] = tools
        if think is not None:
            variables["enable_thinking"] = think
            if think_level:
                variables["reasoning_effort"] = think_level
        try:
            return self.template.render(**variables)
        except jinja2.TemplateError as e:
            raise InvalidArgument(f"chat template error: {e}") from None


def _message(m: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.thinking:
        out["reasoning_content"] = m.thinking
    if m.tool_calls:
        out["tool_calls"] = [
            {"id": c.get("id", ""), "type": "function", "function": c["function"]} for c in m.tool_calls
        ]
    if m.tool_name:
        out["name"] = m.tool_name
    if m.tool_call_id:
        out["tool_call_id"] = m.tool_call_id
    return out
