"""Prompt assembly, as Ollama builds it (reference §7): the model's SYSTEM and MESSAGEs,
the request's messages and tools, the thinking switch; chat history cut to fit."""

from __future__ import annotations

from collections.abc import Callable

from server.engine.types import Engine
from server.store.models import Model
from server.template import prompt as tpl
from server.template.thinking import ThinkingParser
from tokenwire.v1 import inference_pb2, types_pb2
from tokenwire_common.structs import from_struct

_THINK_LEVELS = {
    types_pb2.THINK_LEVEL_LOW: "low",
    types_pb2.THINK_LEVEL_MEDIUM: "medium",
    types_pb2.THINK_LEVEL_HIGH: "high",
    types_pb2.THINK_LEVEL_MAX: "max",
}


def think_of(request) -> tuple[bool | None, str]:
    """(think, level): None when the request does not set think; level "medium" for true."""
    if not request.HasField("think"):
        return None, ""
    if request.think.HasField("level"):
        level = _THINK_LEVELS.get(request.think.level, "")
        return bool(level), level
    return request.think.enabled, "medium" if request.think.enabled else ""


def thinking_parser(template, think: bool | None, prompt: str) -> ThinkingParser | None:
    """Split thinking out unless the request turned thinking off."""
    tags = template.thinking_tags()
    if tags is None or think is False:
        return None
    return ThinkingParser(*tags, prompt=prompt)


def tool_json(tool: types_pb2.Tool) -> dict:
    """A tool in Ollama's JSON shape and key order, as templates see `.Tools`."""
    params = from_struct(tool.function.parameters)
    ordered = {k: params[k] for k in ("type", "$defs", "items", "required") if k in params}
    ordered["properties"] = params.get("properties", {})
    ordered.update({k: v for k, v in params.items() if k not in ordered})
    out: dict = {"type": tool.type or "function"}
    if tool.HasField("items"):
        out["items"] = from_struct(tool.items)
    fn = {"name": tool.function.name, "description": tool.function.description, "parameters": ordered}
    out["function"] = fn
    return out


def tool_call_json(call: types_pb2.ToolCall) -> dict:
    args = from_struct(call.function.arguments)
    fn = {"index": call.function.index, "name": call.function.name, "arguments": args}
    return {"id": call.id, "function": fn} if call.id else {"function": fn}


def generate_prompt(request: inference_pb2.GenerateRequest, model: Model, template) -> str:
    """Generate's prompt: raw as given, fill-in-middle, or one user turn after SYSTEM and
    the model's MESSAGEs (dropped when the request carries an old context)."""
    if request.raw:
        return request.prompt
    think, level = think_of(request)
    if request.suffix:
        return template.render([], prompt=request.prompt, suffix=request.suffix, think=think)
    system = request.system or model.system  # "" is absent (Ollama's Go client sends it)
    messages: list[tpl.ChatMessage] = []
    if system:
        messages.append(tpl.ChatMessage("system", system))
    if not request.context:
        messages += [tpl.ChatMessage(m.get("role", ""), m.get("content", "")) for m in model.messages]
    prompt = image_tags(0, len(request.images)) + request.prompt
    messages.append(tpl.ChatMessage("user", prompt, images=list(request.images)))
    return template.render(messages, think=think, think_level=level)


def image_tags(first: int, count: int) -> str:
    """Ollama's placeholders for a message's images, `[img-N]` numbered across the
    request, put before its text; the engine puts each image's embeddings there."""
    return "".join(f"[img-{first + i}]" for i in range(count))


def chat_messages(request: inference_pb2.ChatRequest, model: Model) -> list[tpl.ChatMessage]:
    """The model's MESSAGEs, then the request's; the model's SYSTEM first unless the
    conversation opens with its own."""
    messages = [tpl.ChatMessage(m.get("role", ""), m.get("content", "")) for m in model.messages]
    seen = [0]  # images so far, for the [img-N] numbering

    def tagged(m: types_pb2.Message) -> str:
        tags = image_tags(seen[0], len(m.images))
        seen[0] += len(m.images)
        return tags + m.content

    messages += [
        tpl.ChatMessage(
            m.role.lower(),
            tagged(m),
            thinking=m.thinking,
            images=list(m.images),
            tool_calls=[tool_call_json(c) for c in m.tool_calls],
            tool_name=m.tool_name,
            tool_call_id=m.tool_call_id,
        )
        for m in request.messages
    ]
    if model.system and request.messages[0].role.lower() != "system":
        messages.insert(0, tpl.ChatMessage("system", model.system))
    return messages


def fit_history(
    messages: list[tpl.ChatMessage],
    prompt: str,
    render: Callable[[list[tpl.ChatMessage]], str],
    engine: Engine,
    per_image: int,
) -> str:
    """Ollama's chatPrompt: drop the oldest messages until the prompt fits, always
    keeping every system message and the last message.

    Cutting more never makes the prompt longer, so the first cut point that fits is
    found by bisection: O(log n) renders instead of one per message (3,000 messages
    took 69 s of CPU one by one).
    """

    texts: dict[int, str] = {}

    def fits(i: int) -> bool:
        kept = [m for m in messages[:i] if m.role == "system"] + messages[i:]
        texts[i] = prompt if i == 0 else render(kept)
        images = sum(len(m.images) for m in kept) * per_image
        return len(engine.tokenize(texts[i])) + images <= engine.num_ctx

    if fits(0) or len(messages) == 1:
        return prompt
    lo, hi = 1, len(messages) - 1  # the cut at hi is taken whether it fits or not
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid + 1
    if hi not in texts:
        fits(hi)
    return texts[hi]
