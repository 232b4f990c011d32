"""InferenceService: Generate, Chat, Embed and Embeddings, a few lines each.

A generation is planned (generation/plan.py), run (generation/run.py), split into
content, thinking and tool calls (generation/output.py) and turned into chunks here.
Cancelling the RPC (client gone, deadline) cancels the engine sequence.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from server.embedding import Embedder, normalize
from server.errors import InvalidArgument, NotFound
from server.generation.output import Final, Piece, logprobs_pb, parsed, stream_or_aggregate, tool_call_pb
from server.generation.plan import Plan, Planner
from server.generation.run import Runner
from server.scheduler import Scheduler
from server.settings import Settings
from server.store.models import ModelStore
from server.workers import Workers
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(time.time_ns())
    return ts


class InferenceService(inference_pb2_grpc.InferenceServiceServicer):
    def __init__(self, settings: Settings, store: ModelStore, scheduler: Scheduler, workers: Workers):
        self._planner = Planner(store, workers)
        self._runner = Runner(settings, scheduler, workers)
        self._embedder = Embedder(store, scheduler, workers, self._runner)

    async def _outcome(
        self, plan: Plan, t0: int, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[tuple[Piece, Final | None]]:
        """The plan's pieces (streamed or aggregated), the last with its Final. The Final
        also sets trailing metadata `tokenwire-max-batch`: the largest batch this request
        was decoded in (observability outside the contract)."""
        if plan.prompt is None:
            yield Piece(), await self._runner.load_or_unload(plan, t0)
            return
        # Headers now, before the wait for a slot and the prefill: the client then has
        # its read of the first message posted when that arrives, one wake-up less on
        # the way to the first token (REST's TTFT beyond prefill, 6.2 -> 5.8 ms at one
        # stream); a proxy also sees the stream start. Errors still end it as a status.
        await context.send_initial_metadata(())
        run = parsed(self._runner.run(plan, t0), plan.thinking, plan.tools)
        async for piece, final in stream_or_aggregate(plan.stream, run):
            if final is not None:
                context.set_trailing_metadata((("tokenwire-max-batch", str(final.max_batch)),))
            yield piece, final

    async def Generate(
        self, request: inference_pb2.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[inference_pb2.GenerateResponse]:
        t0 = time.perf_counter_ns()
        plan = await self._planner.generate(request)

        def chunk(**kw) -> inference_pb2.GenerateResponse:
            return inference_pb2.GenerateResponse(model=request.model, created_at=_now(), **kw)

        if request.debug_render_only and plan.prompt is not None:
            info = types_pb2.DebugInfo(rendered_template=plan.prompt, image_count=plan.image_count)
            yield chunk(debug_info=info)
            return
        async for piece, final in self._outcome(plan, t0, context):
            text = {
                "response": piece.content,
                "thinking": piece.thinking,
                "logprobs": logprobs_pb(piece.logprobs),
            }
            yield chunk(**text) if final is None else chunk(**text, context=final.context, **final.metrics())

    async def Chat(
        self, request: inference_pb2.ChatRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[inference_pb2.ChatResponse]:
        t0 = time.perf_counter_ns()
        plan = await self._planner.chat(request)

        def chunk(piece: Piece, **kw) -> inference_pb2.ChatResponse:
            msg = types_pb2.Message(role="assistant", content=piece.content, thinking=piece.thinking)
            msg.tool_calls.extend(tool_call_pb(c) for c in piece.tool_calls)
            logprobs = logprobs_pb(piece.logprobs)
            return inference_pb2.ChatResponse(
                model=request.model, created_at=_now(), message=msg, logprobs=logprobs, **kw
            )

        if request.debug_render_only and plan.prompt is not None:
            info = types_pb2.DebugInfo(rendered_template=plan.prompt, image_count=plan.image_count)
            yield chunk(Piece(), debug_info=info)
            return
        async for piece, final in self._outcome(plan, t0, context):
            yield chunk(piece) if final is None else chunk(piece, **final.metrics())

    async def Embed(
        self, request: inference_pb2.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.EmbedResponse:
        t0 = time.perf_counter_ns()
        if not request.model:
            raise NotFound("model '' not found")
        if request.dimensions < 0:
            raise InvalidArgument("dimensions must be a positive number")
        model = await self._embedder.model(request.model)
        truncate = not request.HasField("truncate") or request.truncate
        vectors, count, load_ns = await self._embedder.vectors(request, model, list(request.input), truncate)
        cut = [v[: request.dimensions] if 0 < request.dimensions < len(v) else v for v in vectors]
        return inference_pb2.EmbedResponse(
            model=request.model,
            embeddings=[inference_pb2.Embedding(values=normalize(v)) for v in cut],
            total_duration=time.perf_counter_ns() - t0,
            load_duration=load_ns,
            prompt_eval_count=count,
        )

    async def Embeddings(
        self, request: inference_pb2.EmbeddingsRequest, context: grpc.aio.ServicerContext
    ) -> inference_pb2.EmbeddingsResponse:
        if not request.model:
            raise InvalidArgument("model is required")
        model = await self._embedder.model(request.model)
        texts = [request.prompt] if request.prompt else []
        vectors, _, _ = await self._embedder.vectors(request, model, texts, True)
        return inference_pb2.EmbeddingsResponse(embedding=vectors[0] if vectors else [])
