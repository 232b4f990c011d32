"""A model's capabilities, as Ollama derives them (reference §5): from its GGUF (pooling,
projectors) and its template. Not stored. Here, not in store/ or template/, because it
needs both, and neither should import the other's model of the world."""

from __future__ import annotations

from server.store.gguf_info import GGUFInfo
from server.store.models import Model
from server.template.capabilities import jinja_capabilities, template_capabilities

ORDER = ("completion", "embedding", "tools", "insert", "vision", "thinking")


def capabilities(model: Model, info: GGUFInfo) -> list[str]:
    caps = {"embedding"} if info.pooling else {"completion"}
    if model.projectors or info.vision:
        caps.add("vision")
    if model.template or not info.chat_template:
        caps |= template_capabilities(model.template)
    else:  # no TEMPLATE layer: the GGUF's Jinja chat_template is used, scanned as Ollama does
        caps |= jinja_capabilities(info.chat_template)
    return [c for c in ORDER if c in caps]
