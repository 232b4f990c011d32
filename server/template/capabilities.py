"""What a template offers, as Ollama derives it (reference §5): from a Go TEMPLATE's
fields, or from scanning a GGUF's Jinja chat_template. Pure."""

from __future__ import annotations

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
