"""Build the prompt text from a template and messages, as Ollama's template.Execute.

Two paths (reference §8): templates that use .Messages are executed once with the
collated messages; legacy templates (.System/.Prompt/.Response) are executed once
per turn and, on the last turn, cut after {{ .Response }} so the prompt ends where
generation begins. With a suffix, the template gets .Prompt and .Suffix (FIM).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from server.template.gotemplate import Action, Block, GoJSON, Pipeline, Template, Text

DEFAULT_TEMPLATE = "{{ .Prompt }}"


@dataclass
class ChatMessage:
    role: str
    content: str = ""
    thinking: str = ""
    images: list[bytes] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)  # Ollama JSON shape
    tool_name: str = ""
    tool_call_id: str = ""


def _pipe_fields(p: Pipeline) -> set[str]:
    names: set[str] = set()
    for c in p.cmds:
        for a in c.args:
            if a[0] == "field":
                names.update(a[1])
            elif a[0] == "chain":
                names.update(a[2])
            elif a[0] == "pipe":
                names |= _pipe_fields(a[1])
    return names


def template_fields(t: Template) -> set[str]:
    """Every field name the template references (Ollama's Vars(), case kept)."""
    out: set[str] = set()

    def walk(nodes: list[Any]) -> None:
        for n in nodes:
            if isinstance(n, Action):
                out.update(_pipe_fields(n.pipe))
            elif isinstance(n, Block):
                out.update(_pipe_fields(n.pipe))
                walk(n.body)
                if n.else_body:
                    walk(n.else_body)

    walk(t.nodes)
    return out


def prepare(source: str) -> Template:
    """Parse; like Ollama, append {{ .Response }} when neither .Messages nor .Response is used."""
    t = Template(source)
    fields = template_fields(t)
    if "Messages" not in fields and "Response" not in fields:
        t = Template(source + "{{ .Response }}")
    return t


def _cut_after_response(nodes: list[Any]) -> list[Any]:
    """Ollama's deleteNode: keep everything up to the first .Response field, drop the rest."""
    cut = False

    def walk(ns: list[Any]) -> list[Any]:
        nonlocal cut
        kept = []
        for n in ns:
            if cut:
                continue
            if isinstance(n, Text):
                kept.append(n)
            elif isinstance(n, Action):
                if "Response" in _pipe_fields(n.pipe):
                    cut = True
                kept.append(n)
            elif isinstance(n, Block):
                n = copy.copy(n)
                n.body = walk(n.body)
                if n.else_body is not None:
                    n.else_body = walk(n.else_body)
                kept.append(n)
            else:
                kept.append(n)
        return kept

    return walk(nodes)


def collate(messages: list[ChatMessage]) -> tuple[str, list[ChatMessage]]:
    """System text joined by blank lines; consecutive same-role messages merged (not tool)."""
    system: list[str] = []
    out: list[ChatMessage] = []
    for m in messages:
        if m.role == "system":
            system.append(m.content)
        if out and out[-1].role == m.role and m.role != "tool":
            prev = copy.copy(out[-1])
            prev.content += "\n\n" + m.content
            out[-1] = prev
        else:
            out.append(m)
    return "\n\n".join(system), out


def _message_value(m: ChatMessage) -> dict[str, Any]:
    return {
        "Role": m.role,
        "Content": m.content,
        "Thinking": m.thinking,
        "Images": m.images,
        "ToolCalls": [GoJSON(tc) for tc in m.tool_calls],
        "ToolName": m.tool_name,
        "ToolCallID": m.tool_call_id,
    }


def render(
    template: Template,
    messages: list[ChatMessage],
    *,
    tools: list[dict] | None = None,
    think: bool | None = None,
    think_level: str = "",
    suffix: str = "",
    prompt: str = "",
) -> str:
    think_vars = {"Think": bool(think), "ThinkLevel": think_level, "IsThinkSet": think is not None}
    if suffix:
        return template.render({"Prompt": prompt, "Suffix": suffix, "Response": "", **think_vars})
    system, collated = collate(messages)
    if "Messages" in template_fields(template):
        return template.render(
            {
                "System": system,
                "Messages": [_message_value(m) for m in collated],
                "Tools": GoJSON(tools or []),
                "Response": "",
                **think_vars,
            }
        )
    out: list[str] = []
    cur = {"System": "", "Prompt": "", "Response": ""}

    def execute() -> None:
        out.append(template.render({**cur, **think_vars}))
        cur.update(System="", Prompt="", Response="")

    for m in collated:
        if m.role == "system":
            if cur["Prompt"] or cur["Response"]:
                execute()
            cur["System"] = m.content
        elif m.role == "user":
            if cur["Response"]:
                execute()
            cur["Prompt"] = m.content
        elif m.role == "assistant":
            cur["Response"] = m.content
    last = copy.copy(template)
    last.nodes = _cut_after_response(template.nodes)
    out.append(last.render({**cur, **think_vars}))
    return "".join(out)


def has_field(template: Template, name: str) -> bool:
    return name in template_fields(template)


_IMG = re.compile(r"\[img-\d+\]")
