"""InferenceService: Generate, Chat, Embed and Embeddings.

Thin: validate, resolve the model, render the prompt, hand it to the engine through
the scheduler, and translate engine events into response chunks. Cancelling the RPC
(client gone, deadline) cancels the engine sequence in the `finally`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc
from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from server import limits
from server import options as opts
from server.engine import grammar
from server.engine.types import (
    CompletionRequest,
    DoneEvent,
    EmbedJob,
    Engine,
    ErrorEvent,
    LoadOptions,
    Stream,
    TokenEvent,
)
from server.errors import Internal, InvalidArgument, NotFound, Unimplemented
from server.scheduler import Scheduler
from server.settings import Settings
from server.store.models import Model, ModelStore
from server.template import chat_template
from server.template import prompt as tpl
from server.template.thinking import ThinkingParser
from server.template.tools import ToolParser
from server.workers import Workers
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2
from tokenwire_common.duration import FOREVER_NS
from tokenwire_common.structs import whole_numbers_as_ints

_DONE = {
    "stop": types_pb2.DONE_REASON_STOP,
    "length": types_pb2.DONE_REASON_LENGTH,
    "load": types_pb2.DONE_REASON_LOAD,
    "unload": types_pb2.DONE_REASON_UNLOAD,
}


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(time.time_ns())
    return ts


@dataclass
class _Final:
    done_reason: str
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    context: tuple[int, ...] = ()
    max_batch: int = 0

    def metrics(self) -> dict:
        return {
            "done": True,
            "done_reason": _DONE[self.done_reason],
            "total_duration": self.total_duration,
            "load_duration": self.load_duration,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": self.prompt_eval_duration,
            "eval_count": self.eval_count,
            "eval_duration": self.eval_duration,
        }


@dataclass
class _Piece:
    """Output that is certain: content, thinking and whole tool calls (Ollama JSON shape)."""

    content: str = ""
    thinking: str = ""
    tool_calls: tuple[dict, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.content or self.thinking or self.tool_calls)


async def _parsed(
    items: AsyncIterator[str | _Final],
    thinking: ThinkingParser | None,
    tools: ToolParser | None,
) -> AsyncIterator[_Piece | _Final]:
    """Split raw output into thinking, content and tool calls as they become certain."""

    def split(text: str, final: bool) -> _Piece:
        thought = ""
        if thinking is not None:
            thought, text = thinking.add(text)
            if final:
                more_thought, more_text = thinking.flush()
                thought, text = thought + more_thought, text + more_text
        calls: list[dict] = []
        if tools is not None:
            calls, text = tools.add(text)
            if final:
                text += tools.flush()
        return _Piece(text, thought, tuple(calls))

    async for item in items:
        if isinstance(item, str):
            if piece := split(item, False):
                yield piece
        else:
            if piece := split("", True):
                yield piece
            yield item


async def _stream_or_aggregate(
    request, context: grpc.aio.ServicerContext, items: AsyncIterator[_Piece | _Final]
) -> AsyncIterator[tuple[_Piece, _Final | None]]:
    """(piece, None) per piece when streaming; with stream=false one (all of it, final):
    content and thinking concatenated, tool calls merged, as Ollama aggregates.

    The final also sets the trailing metadata `tokenwire-max-batch`: the largest batch
    this request was decoded in (observability outside the contract).
    """
    stream = not request.HasField("stream") or request.stream
    parts: list[_Piece] = []
    async for item in items:
        if isinstance(item, _Piece):
            if stream:
                yield item, None
            else:
                parts.append(item)
        else:
            context.set_trailing_metadata((("tokenwire-max-batch", str(item.max_batch)),))
            whole = _Piece(
                "".join(p.content for p in parts),
                "".join(p.thinking for p in parts),
                tuple(c for p in parts for c in p.tool_calls),
            )
            yield whole, item


_THINK_LEVELS = {
    types_pb2.THINK_LEVEL_LOW: "low",
    types_pb2.THINK_LEVEL_MEDIUM: "medium",
    types_pb2.THINK_LEVEL_HIGH: "high",
    types_pb2.THINK_LEVEL_MAX: "max",
}


def _request_options(request) -> types_pb2.Options | None:
    return request.options if request.HasField("options") else None


def _keep_alive(request) -> int | None:
    """The request's keep_alive in nanoseconds; any negative Duration means forever (Ollama §3)."""
    if not request.HasField("keep_alive"):
        return None
    ns = request.keep_alive.ToNanoseconds()
    return FOREVER_NS if ns < 0 or ns > FOREVER_NS else ns


def _think(request) -> tuple[bool | None, str]:
    """(think, level): None when the request does not set think; level "medium" for true."""
    if not request.HasField("think"):
        return None, ""
    if request.think.HasField("level"):
        level = _THINK_LEVELS.get(request.think.level, "")
        return bool(level), level
    return request.think.enabled, "medium" if request.think.enabled else ""


def _thinking_parser(template, think: bool | None, prompt: str) -> ThinkingParser | None:
    """Split thinking out unless the request turned thinking off."""
    tags = template.thinking_tags()
    if tags is None or think is False:
        return None
    return ThinkingParser(*tags, prompt=prompt)


def _tool_json(tool: types_pb2.Tool) -> dict:
    """A tool in Ollama's JSON shape and key order, as templates see `.Tools`."""
    params = whole_numbers_as_ints(json_format.MessageToDict(tool.function.parameters))
    ordered = {k: params[k] for k in ("type", "$defs", "items", "required") if k in params}
    ordered["properties"] = params.get("properties", {})
    ordered.update({k: v for k, v in params.items() if k not in ordered})
    out: dict = {"type": tool.type or "function"}
    if tool.HasField("items"):
        out["items"] = whole_numbers_as_ints(json_format.MessageToDict(tool.items))
    fn = {"name": tool.function.name, "description": tool.function.description, "parameters": ordered}
    out["function"] = fn
    return out


def _tool_call_json(call: types_pb2.ToolCall) -> dict:
    args = whole_numbers_as_ints(json_format.MessageToDict(call.function.arguments))
    fn = {"index": call.function.index, "name": call.function.name, "arguments": args}
    return {"id": call.id, "function": fn} if call.id else {"function": fn}


def _tool_call_pb(call: dict) -> types_pb2.ToolCall:
    fn = call["function"]
    args = struct_pb2.Struct()
    args.update(fn["arguments"])
    return types_pb2.ToolCall(
        id=call["id"],
        function=types_pb2.ToolCallFunction(index=fn["index"], name=fn["name"], arguments=args),
    )


class InferenceService(inference_pb2_grpc.InferenceServiceServicer):
    def __init__(self, settings: Settings, store: ModelStore, scheduler: Scheduler, workers: Workers):
        self._settings = settings
        self._store = store
        self._scheduler = scheduler
        self._workers = workers

    def _resolve(self, name: str) -> Model:
        if not name:
            # Ollama's generate and chat fall through to the lookup with an empty name.
            raise NotFound("model '' not found")
        return self._store.resolve(name)

    async def _model_and_template(self, name: str) -> tuple[Model, chat_template.ChatTemplate]:
        """Read the manifest and its small layers and parse the template: store I/O and
        parsing, so off the event loop."""

        def load() -> tuple[Model, chat_template.ChatTemplate]:
            model = self._resolve(name)
            return model, chat_template.for_model(model)

        return await asyncio.to_thread(load)

    def _load_options(self, request, model: Model) -> LoadOptions:
        """Runner options for this request: server defaults < model params < request."""
        return opts.load_options(self._settings, model.params, _request_options(request))

    def _check_common(self, request, model: Model, template: chat_template.ChatTemplate) -> None:
        """Checks shared by generate and chat; template is the model's own."""
        if not 0 <= request.top_logprobs <= 20:
            raise InvalidArgument("top_logprobs must be between 0 and 20")
        if _think(request)[0] and not template.supports("thinking"):
            raise InvalidArgument(f'"{request.model}" does not support thinking')
        if request.logprobs:
            raise Unimplemented("logprobs are not implemented yet (tokenwire issue 4)")
        if request.HasField("format") and request.format.HasField("schema"):
            if request.format.schema.ByteSize() > limits.MAX_SCHEMA_BYTES:
                raise InvalidArgument(
                    f"format schema is too large: more than {limits.MAX_SCHEMA_BYTES} bytes"
                )
            limits.check_json("format schema", json_format.MessageToDict(request.format.schema))

    async def _run(
        self,
        request,
        model: Model,
        prompt: str,
        context_in: list[int],
        t0: int,
        return_context: bool,
        fit: Callable[[Engine], str] | None = None,
    ) -> AsyncIterator[str | _Final]:
        """Yield text pieces, then one _Final. fit, given the loaded engine, returns the
        prompt cut to its context (chat history truncation) when it is too long."""
        sampling = opts.sampling_params(model.params, _request_options(request))
        if request.HasField("format"):
            fmt = request.format
            if fmt.HasField("schema"):
                schema = json_format.MessageToDict(fmt.schema)
                sampling.grammar = await self._workers.prompt(grammar.schema_grammar, schema)
            elif fmt.json:
                sampling.grammar = grammar.json_grammar()
        load = self._load_options(request, model)
        async with self._scheduler.use(model, load, _keep_alive(request)) as engine:
            # Ollama's load_duration: from the request's start until its runner is ready.
            load_ns = time.perf_counter_ns() - t0
            bad = next((t for t in context_in if not 0 <= t < engine.n_vocab), None)
            if bad is not None:
                raise InvalidArgument(f"context token {bad} is outside the model's vocabulary")
            truncate = not request.HasField("truncate") or request.truncate
            if fit is not None and truncate:
                prompt = await self._workers.prompt(fit, engine)
            completion = CompletionRequest(
                prompt=prompt,
                sampling=sampling,
                prefix_tokens=context_in,
                truncate=truncate,
                shift=not request.HasField("shift") or request.shift,
            )
            stream = Stream()
            try:
                # Tokenizing and compiling the sampler chain are a worker's job; a
                # cancellation meanwhile still reaches the stream in the `finally`.
                await self._workers.prompt(engine.submit, completion, stream)
                async for event in stream:
                    if isinstance(event, TokenEvent):
                        if event.text:
                            yield event.text
                    elif isinstance(event, DoneEvent):
                        yield _Final(
                            done_reason=event.done_reason,
                            total_duration=time.perf_counter_ns() - t0,
                            load_duration=load_ns,
                            prompt_eval_count=event.prompt_eval_count,
                            prompt_eval_duration=event.prompt_eval_duration_ns,
                            eval_count=event.eval_count,
                            eval_duration=event.eval_duration_ns,
                            context=tuple(event.context) if return_context else (),
                            max_batch=event.max_batch,
                        )
                    elif isinstance(event, ErrorEvent):
                        raise event.error
            finally:
                stream.cancel()  # no-op when finished; frees the slot when the RPC was cancelled

    async def _load_or_unload(self, request, model: Model, t0: int) -> _Final:
        """Empty prompt/messages: load the model, or unload it with keep_alive 0 (Ollama §1.2)."""
        keep_alive = _keep_alive(request)
        if keep_alive == 0:
            await self._scheduler.unload(model.model_path)
            return _Final("unload")
        await self._scheduler.load(model, self._load_options(request, model), keep_alive)
        load_ns = time.perf_counter_ns() - t0
        return _Final("load", total_duration=time.perf_counter_ns() - t0, load_duration=load_ns)

    async def Generate(
        self, request: inference_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[inference_pb2.GenerateResponse]:
        t0 = time.perf_counter_ns()
        if request.raw and (request.HasField("template") or request.HasField("system") or request.context):
            raise InvalidArgument("raw mode does not support template, system, or context")
        model, template = await self._model_and_template(request.model)
        self._check_common(request, model, template)
        limits.check_images(list(request.images))
        if request.images and not model.projectors:
            raise InvalidArgument(f"{model.name.full()} does not support vision")
        if request.HasField("template"):
            template = chat_template.for_model(model, request.template)
        if request.suffix and not template.supports("insert"):
            raise InvalidArgument(f"{model.name.full()} does not support insert")
        limits.check_text("prompt", request.prompt + request.suffix + request.system + request.template)

        def chunk(**kw) -> inference_pb2.GenerateResponse:
            return inference_pb2.GenerateResponse(model=request.model, created_at=_now(), **kw)

        if not request.prompt and not request.suffix:
            final = await self._load_or_unload(request, model, t0)
            yield chunk(response="", **final.metrics())
            return

        prompt = await self._workers.prompt(self._generate_prompt, request, model, template)
        if request.debug_render_only:
            info = types_pb2.DebugInfo(rendered_template=prompt, image_count=len(request.images))
            yield chunk(debug_info=info)
            return
        think = None if request.raw else _thinking_parser(template, _think(request)[0], prompt)
        run = _parsed(
            self._run(request, model, prompt, list(request.context), t0, not request.raw), think, None
        )
        async for piece, final in _stream_or_aggregate(request, context, run):
            if final is None:
                yield chunk(response=piece.content, thinking=piece.thinking)
            else:
                yield chunk(
                    response=piece.content, thinking=piece.thinking, context=final.context, **final.metrics()
                )

    def _generate_prompt(self, request: inference_pb2.GenerateRequest, model: Model, template) -> str:
        if request.raw:
            return request.prompt
        think, level = _think(request)
        if request.suffix:
            return template.render([], prompt=request.prompt, suffix=request.suffix, think=think)
        system = request.system if request.HasField("system") else model.system
        messages: list[tpl.ChatMessage] = []
        if system:
            messages.append(tpl.ChatMessage("system", system))
        if not request.context:
            messages += [tpl.ChatMessage(m.get("role", ""), m.get("content", "")) for m in model.messages]
        messages.append(tpl.ChatMessage("user", request.prompt, images=list(request.images)))
        return template.render(messages, think=think, think_level=level)

    async def Chat(
        self, request: inference_pb2.ChatRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[inference_pb2.ChatResponse]:
        t0 = time.perf_counter_ns()
        if not request.model:  # Ollama's ChatHandler; generate instead says "model '' not found"
            raise InvalidArgument("model is required")
        model, template = await self._model_and_template(request.model)
        self._check_common(request, model, template)
        if request.tools and not template.supports("tools"):
            raise InvalidArgument(f"{model.name.full()} does not support tools")
        limits.check_images([image for m in request.messages for image in m.images])
        if any(m.images for m in request.messages) and not model.projectors:
            raise InvalidArgument(f"{model.name.full()} does not support vision")
        limits.check_text("prompt", "".join(m.content for m in request.messages))
        for t in request.tools:
            limits.check_json("tool parameters", json_format.MessageToDict(t.function.parameters))

        def chunk(piece: _Piece | None = None, **kw) -> inference_pb2.ChatResponse:
            msg = types_pb2.Message(role="assistant")
            if piece is not None:
                msg.content = piece.content
                msg.thinking = piece.thinking
                msg.tool_calls.extend(_tool_call_pb(c) for c in piece.tool_calls)
            return inference_pb2.ChatResponse(model=request.model, created_at=_now(), message=msg, **kw)

        if not request.messages:
            final = await self._load_or_unload(request, model, t0)
            yield chunk(**final.metrics())
            return

        messages = [tpl.ChatMessage(m.get("role", ""), m.get("content", "")) for m in model.messages]
        messages += [
            tpl.ChatMessage(
                m.role.lower(),
                m.content,
                thinking=m.thinking,
                images=list(m.images),
                tool_calls=[_tool_call_json(c) for c in m.tool_calls],
                tool_name=m.tool_name,
                tool_call_id=m.tool_call_id,
            )
            for m in request.messages
        ]
        if model.system and request.messages[0].role.lower() != "system":
            messages.insert(0, tpl.ChatMessage("system", model.system))
        tools = [_tool_json(t) for t in request.tools]
        think, level = _think(request)

        def render(kept: list[tpl.ChatMessage]) -> str:
            return template.render(kept, tools=tools, think=think, think_level=level)

        prompt = await self._workers.prompt(render, messages)
        if request.debug_render_only:
            images = sum(len(m.images) for m in request.messages)
            yield chunk(debug_info=types_pb2.DebugInfo(rendered_template=prompt, image_count=images))
            return
        parser = ToolParser(template.tool_tag(), tools) if tools else None
        per_image = 768 if model.projectors else 0

        def fit(engine: Engine) -> str:
            return fit_history(messages, prompt, render, engine, per_image)

        run = _parsed(
            self._run(request, model, prompt, [], t0, False, fit),
            _thinking_parser(template, think, prompt),
            parser,
        )
        async for piece, final in _stream_or_aggregate(request, context, run):
            yield chunk(piece) if final is None else chunk(piece, **final.metrics())

    def _resolve_for_embedding(self, name: str) -> Model:
        try:
            return self._store.resolve(name)
        except NotFound:
            raise NotFound(f'model "{name}" not found, try pulling it first') from None

    async def _embed(
        self, request, model: Model, texts: list[str], truncate: bool
    ) -> tuple[list[list[float]], int, int]:
        """Raw vectors, tokens evaluated, and load_duration, for texts embedded in one job."""
        t0 = time.perf_counter_ns()
        load = self._load_options(request, model)
        async with self._scheduler.use(model, load, _keep_alive(request)) as engine:
            load_ns = time.perf_counter_ns() - t0
            if not texts:
                return [], 0, load_ns
            limits.check_text("input", "".join(texts))
            inputs = await self._workers.prompt(lambda: [engine.tokenize(t) for t in texts])
            for i, tokens in enumerate(inputs):
                if len(tokens) > engine.num_ctx:
                    if not truncate:
                        raise InvalidArgument("the input length exceeds the context length")
                    inputs[i] = tokens[: engine.num_ctx]
            job = EmbedJob(inputs)
            engine.embed(job)
            try:
                vectors = await job.result
            finally:
                job.result.cancel()  # an abandoned job is skipped if not yet started
            for v in vectors:
                if not all(math.isfinite(x) for x in v):
                    raise Internal("embedding contains NaN or Inf values")
            return vectors, sum(map(len, inputs)), load_ns

    async def Embed(
        self, request: inference_pb2.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.EmbedResponse:
        t0 = time.perf_counter_ns()
        if not request.model:
            raise NotFound("model '' not found")
        if request.dimensions < 0:
            raise InvalidArgument("dimensions must be a positive number")
        model = await asyncio.to_thread(self._resolve_for_embedding, request.model)
        truncate = not request.HasField("truncate") or request.truncate
        vectors, count, load_ns = await self._embed(request, model, list(request.input), truncate)
        out = []
        for v in vectors:
            if 0 < request.dimensions < len(v):
                v = v[: request.dimensions]
            out.append(inference_pb2.Embedding(values=_normalize(v)))
        return inference_pb2.EmbedResponse(
            model=request.model,
            embeddings=out,
            total_duration=time.perf_counter_ns() - t0,
            load_duration=load_ns,
            prompt_eval_count=count,
        )

    async def Embeddings(
        self, request: inference_pb2.EmbeddingsRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.EmbeddingsResponse:
        if not request.model:
            raise InvalidArgument("model is required")
        model = await asyncio.to_thread(self._resolve_for_embedding, request.model)
        texts = [request.prompt] if request.prompt else []
        vectors, _, _ = await self._embed(request, model, texts, True)
        return inference_pb2.EmbeddingsResponse(embedding=vectors[0] if vectors else [])


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


def _normalize(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v] if norm > 0 else v
