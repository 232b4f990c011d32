"""The request read once: every check, the model and template, the prompt, and the
parsers its output needs, in one Plan that run.py executes."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf import json_format

from server import limits
from server.engine.types import Engine
from server.errors import InvalidArgument, NotFound
from server.generation import prompt as pr
from server.store.models import Model, ModelStore
from server.template import chat_template
from server.template import prompt as tpl
from server.template.thinking import ThinkingParser
from server.template.tools import ToolParser
from server.workers import Workers
from tokenwire.v1 import inference_pb2

# Tokens an image takes in the context, for history cutting before its real size is known.
TOKENS_PER_IMAGE = 768


@dataclass
class Plan:
    """What one Generate or Chat will do. `prompt` is None for a load/unload request."""

    request: inference_pb2.GenerateRequest | inference_pb2.ChatRequest
    model: Model
    prompt: str | None
    stream: bool
    context_in: list[int] = field(default_factory=list)
    return_context: bool = False
    # Given the loaded engine, the prompt cut to its context (chat history truncation).
    fit: Callable[[Engine], str] | None = None
    thinking: ThinkingParser | None = None
    tools: ToolParser | None = None
    image_count: int = 0
    images: list[bytes] = field(default_factory=list)  # in the order of the prompt's [img-N] tags


Parsed = tuple[Model, chat_template.ChatTemplate]
# Parsed models kept per manifest version; a store holds a few dozen models at most.
PARSED_CACHE = 64


class Planner:
    def __init__(self, store: ModelStore, workers: Workers):
        self._store = store
        self._workers = workers
        self._parsed: OrderedDict[tuple[str, tuple[int, ...]], Parsed] = OrderedDict()
        self._lock = threading.Lock()  # filled from worker threads

    async def _model_and_template(self, name: str) -> Parsed:
        """The model and its parsed template, cached per manifest version. A hit costs a
        name lookup and one stat (about 30 us here), so it is checked on the event loop:
        a hop to a thread and back took 155 us, and woke a thread while llama.cpp's held
        both cores. A miss reads the store and parses off the loop."""
        if not name:
            # Ollama's generate falls through to the lookup with an empty name.
            raise NotFound("model '' not found")
        stored = self._store.locate(name)
        key = (stored.full(), self._store.manifest_version(stored))
        with self._lock:
            if (hit := self._parsed.get(key)) is not None:
                self._parsed.move_to_end(key)
                return hit

        def load() -> Parsed:
            model = self._store.load(stored)
            parsed = model, chat_template.for_model(model)
            with self._lock:
                self._parsed[key] = parsed
                while len(self._parsed) > PARSED_CACHE:
                    self._parsed.popitem(last=False)
            return parsed

        return await asyncio.to_thread(load)

    async def generate(self, request: inference_pb2.GenerateRequest) -> Plan:
        # An empty string is absent, as in Ollama: its Go client always sends "template":
        # "", "system": "" and "suffix": "" (api.GenerateRequest has no omitempty).
        if request.raw and (request.template or request.system or request.context):
            raise InvalidArgument("raw mode does not support template, system, or context")
        model, template = await self._model_and_template(request.model)
        _check_common(request, model, template)
        limits.check_images(list(request.images))
        if request.images and not model.projectors:
            raise InvalidArgument(f"{model.name.full()} does not support vision")
        if request.template:
            template = chat_template.for_model(model, request.template)
        if request.suffix and not template.supports("insert"):
            raise InvalidArgument(f"{model.name.full()} does not support insert")
        limits.check_text("prompt", request.prompt + request.suffix + request.system + request.template)
        stream = _streams(request)
        if not request.prompt and not request.suffix:
            return Plan(request, model, None, stream)
        chars = None if request.images else len(request.prompt) + len(request.suffix) + len(request.system)
        prompt = await self._workers.prompt(pr.generate_prompt, request, model, template, chars=chars)
        think = None if request.raw else pr.thinking_parser(template, pr.think_of(request)[0], prompt)
        return Plan(
            request,
            model,
            prompt,
            stream,
            context_in=list(request.context),
            return_context=not request.raw,
            thinking=think,
            image_count=len(request.images),
            images=list(request.images),
        )

    async def chat(self, request: inference_pb2.ChatRequest) -> Plan:
        if not request.model:  # Ollama's ChatHandler; generate instead says "model '' not found"
            raise InvalidArgument("model is required")
        model, template = await self._model_and_template(request.model)
        _check_common(request, model, template)
        if request.tools and not template.supports("tools"):
            raise InvalidArgument(f"{model.name.full()} does not support tools")
        limits.check_images([image for m in request.messages for image in m.images])
        if any(m.images for m in request.messages) and not model.projectors:
            raise InvalidArgument(f"{model.name.full()} does not support vision")
        limits.check_text("prompt", "".join(m.content for m in request.messages))
        for t in request.tools:
            limits.check_json("tool parameters", json_format.MessageToDict(t.function.parameters))
        stream = _streams(request)
        if not request.messages:
            return Plan(request, model, None, stream)

        messages = pr.chat_messages(request, model)
        tools = [pr.tool_json(t) for t in request.tools]
        think, level = pr.think_of(request)

        def render(kept: list[tpl.ChatMessage]) -> str:
            return template.render(kept, tools=tools, think=think, think_level=level)

        plain = not tools and not any(m.tool_calls for m in request.messages)
        chars = sum(len(m.content) + len(m.thinking) for m in request.messages) if plain else None
        prompt = await self._workers.prompt(render, messages, chars=chars)
        per_image = TOKENS_PER_IMAGE if model.projectors else 0

        def fit(engine: Engine) -> str:
            return pr.fit_history(messages, prompt, render, engine, per_image)

        return Plan(
            request,
            model,
            prompt,
            stream,
            fit=fit,
            thinking=pr.thinking_parser(template, think, prompt),
            tools=ToolParser(template.tool_tag(), tools) if tools else None,
            image_count=sum(len(m.images) for m in request.messages),
            images=[image for m in request.messages for image in m.images],
        )


def _streams(request) -> bool:
    return not request.HasField("stream") or request.stream


def _check_common(request, model: Model, template: chat_template.ChatTemplate) -> None:
    """Checks shared by generate and chat; template is the model's own."""
    if not 0 <= request.top_logprobs <= 20:
        raise InvalidArgument("top_logprobs must be between 0 and 20")
    if pr.think_of(request)[0] and not template.supports("thinking"):
        raise InvalidArgument(f'"{request.model}" does not support thinking')
    if request.HasField("format") and request.format.HasField("schema"):
        if request.format.schema.ByteSize() > limits.MAX_SCHEMA_BYTES:
            raise InvalidArgument(f"format schema is too large: more than {limits.MAX_SCHEMA_BYTES} bytes")
        limits.check_json("format schema", json_format.MessageToDict(request.format.schema))
