"""Capabilities derived from a model, as Ollama derives them (reference §5). Not stored."""

from __future__ import annotations

from server.store.gguf_info import GGUFInfo
from server.store.models import Model
from server.template import gotemplate
from server.template import prompt as tpl


def go_template_capabilities(template: gotemplate.Template) -> set[str]:
    """What a Go TEMPLATE gives: `.Tools` tools, `.Suffix` insert, `.Think(ing)` thinking."""
    fields = tpl.template_fields(template)
    caps = set()
    if "Tools" in fields:
        caps.add("tools")
    if "Suffix" in fields:
        caps.add("insert")
    if "Thinking" in fields or "Think" in fields:
        caps.add("thinking")
    return caps


def template_capabilities(source: str) -> set[str]:
    try:
        return go_template_capabilities(gotemplate.Template(source or tpl.DEFAULT_TEMPLATE))
    except gotemplate.TemplateError:
        return set()


def jinja_capabilities(chat_template: str) -> set[str]:
    """Ollama scans a GGUF Jinja chat_template for "tools" and "<think>"."""
    return {c for c, marker in (("tools", "tools"), ("thinking", "<think>")) if marker in chat_template}


def capabilities(model: Model, info: GGUFInfo) -> list[str]:
    caps = {"embedding"} if info.pooling else {"completion"}
    if model.projectors or info.vision:
        caps.add("vision")
    if model.template or not info.chat_template:
        caps |= template_capabilities(model.template)
    else:  # no TEMPLATE layer: the GGUF's Jinja chat_template is used, scanned as Ollama does
        caps |= jinja_capabilities(info.chat_template)
    order = ("completion", "embedding", "tools", "insert", "vision", "thinking")
    return [c for c in order if c in caps]
