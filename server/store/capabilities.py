"""Capabilities derived from a model, as Ollama derives them (reference §5). Not stored."""

from __future__ import annotations

from server.store.gguf_info import GGUFInfo
from server.store.models import Model
from server.template import gotemplate
from server.template import prompt as tpl


def template_capabilities(source: str) -> set[str]:
    try:
        fields = tpl.template_fields(gotemplate.Template(source or tpl.DEFAULT_TEMPLATE))
    except gotemplate.TemplateError:
        return set()
    caps = set()
    if "Tools" in fields:
        caps.add("tools")
    if "Suffix" in fields:
        caps.add("insert")
    if "Thinking" in fields or "Think" in fields:
        caps.add("thinking")
    return caps


def capabilities(model: Model, info: GGUFInfo) -> list[str]:
    caps = {"embedding"} if info.pooling else {"completion"}
    if model.projectors or info.vision:
        caps.add("vision")
    caps |= template_capabilities(model.template)
    order = ("completion", "embedding", "tools", "insert", "vision", "thinking")
    return [c for c in order if c in caps]
