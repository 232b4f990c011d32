"""The prompt template of a request: the model's Go TEMPLATE layer (or a request's
`template`), else the GGUF's Jinja chat_template, else Ollama's `{{ .Prompt }}`.

Both kinds answer the same questions: render messages, which capabilities they give
(tools, thinking, insert), the tool-call tag and the thinking tags.
"""

from __future__ import annotations

from typing import Any

from server.store.gguf_info import read_info
from server.template import prompt as tpl
from server.template import thinking, tools
from server.template.capabilities import go_template_capabilities
from server.template.jinja import JinjaChatTemplate


class GoChatTemplate:
    def __init__(self, source: str):
        self.template = tpl.prepare(source or tpl.DEFAULT_TEMPLATE)

    def supports(self, capability: str) -> bool:
        return capability in go_template_capabilities(self.template)

    def tool_tag(self) -> str:
        return tools.tool_tag(self.template)

    def thinking_tags(self) -> tuple[str, str] | None:
        return thinking.thinking_tags(self.template)

    def render(self, messages: list[tpl.ChatMessage], **kw: Any) -> str:
        return tpl.render(self.template, messages, **kw)


class _Jinja(JinjaChatTemplate):
    def thinking_tags(self) -> tuple[str, str] | None:
        return ("<think>", "</think>") if self.supports("thinking") else None


ChatTemplate = GoChatTemplate | _Jinja


def for_model(model: Any, override: str | None = None) -> ChatTemplate:
    if override is not None:
        return GoChatTemplate(override)
    if model.template:
        return GoChatTemplate(model.template)
    info = read_info(model.model_path)
    if info.chat_template:
        return _Jinja(info.chat_template, info.bos_token, info.eos_token)
    return GoChatTemplate("")
