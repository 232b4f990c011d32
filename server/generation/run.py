"""A Plan through the scheduler and the engine: text pieces as they decode, then one
Final. Cancelling the consumer (client gone, deadline) cancels the engine sequence."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

from google.protobuf import json_format

from server import options as opts
from server.engine import grammar
from server.engine.types import (
    CompletionRequest,
    DoneEvent,
    ErrorEvent,
    LoadOptions,
    SamplingParams,
    Stream,
    TokenEvent,
)
from server.errors import InvalidArgument
from server.generation.output import Final, Text
from server.generation.plan import Plan
from server.metrics.request import CALL, RequestMetrics
from server.scheduler import Scheduler
from server.settings import Settings
from server.store.models import Model
from server.tracing import generation_spans
from server.workers import Workers
from tokenwire.v1 import types_pb2
from tokenwire_common import tracing
from tokenwire_common.duration import FOREVER_NS


def request_options(request) -> types_pb2.Options | None:
    return request.options if request.HasField("options") else None


def keep_alive_of(request) -> int | None:
    """The request's keep_alive in nanoseconds; any negative Duration means forever (Ollama §3)."""
    if not request.HasField("keep_alive"):
        return None
    ns = request.keep_alive.ToNanoseconds()
    return FOREVER_NS if ns < 0 or ns > FOREVER_NS else ns


class Runner:
    def __init__(self, settings: Settings, scheduler: Scheduler, workers: Workers):
        self._settings = settings
        self._scheduler = scheduler
        self._workers = workers

    def load_options(self, request, model: Model) -> LoadOptions:
        """Runner options for this request: server defaults < model params < request;
        a model with a projector loads it beside the weights."""
        options = opts.load_options(self._settings, model.params, request_options(request))
        return replace(options, projector=str(model.projectors[0])) if model.projectors else options

    async def _sampling(self, plan: Plan) -> SamplingParams:
        request = plan.request
        sampling = opts.sampling_params(plan.model.params, request_options(request))
        if request.HasField("format"):
            fmt = request.format
            if fmt.HasField("schema"):
                schema = json_format.MessageToDict(fmt.schema)
                sampling.grammar = await self._workers.prompt(grammar.schema_grammar, schema)
            elif fmt.json:
                sampling.grammar = grammar.json_grammar()
        return sampling

    async def run(self, plan: Plan, t0: int) -> AsyncIterator[Text | Final]:
        """Yield text pieces (with their tokens' logprobs when asked), then one Final; the
        request's metrics are recorded at its end, however it ends."""
        assert plan.prompt is not None
        sampling = await self._sampling(plan)
        load = self.load_options(plan.request, plan.model)
        record = RequestMetrics(plan.model.name.display_shortest(), t0, off=not self._settings.metrics)
        try:
            async for out in self._run(plan, plan.prompt, sampling, load, record):
                yield out
        except BaseException as e:
            record.stopped(e)
            raise

    async def _run(
        self, plan: Plan, prompt: str, sampling: SamplingParams, load: LoadOptions, record: RequestMetrics
    ) -> AsyncIterator[Text | Final]:
        request, t0 = plan.request, record.t0_ns
        async with self._scheduler.use(plan.model, load, keep_alive_of(request)) as engine:
            # Ollama's load_duration: from the request's start until its runner is ready.
            load_ns = record.load_ns = time.perf_counter_ns() - t0
            bad = next((t for t in plan.context_in if not 0 <= t < engine.n_vocab), None)
            if bad is not None:
                raise InvalidArgument(f"context token {bad} is outside the model's vocabulary")
            truncate = not request.HasField("truncate") or request.truncate
            if plan.fit is not None and truncate:
                prompt = await self._workers.prompt(plan.fit, engine)
            completion = CompletionRequest(
                prompt=prompt,
                sampling=sampling,
                prefix_tokens=plan.context_in,
                truncate=truncate,
                shift=not request.HasField("shift") or request.shift,
                logprobs=request.logprobs,
                top_logprobs=request.top_logprobs,
                images=plan.images,
            )
            stream = Stream()
            try:
                # Tokenizing and compiling the sampler chain are a worker's job (inline
                # for a short prompt with no grammar or image: Workers); a cancellation
                # meanwhile still reaches the stream in the `finally`.
                small = not completion.images and not sampling.grammar
                chars = len(completion.prompt) if small else None
                await self._workers.prompt(engine.submit, completion, stream, chars=chars)
                async for event in stream:
                    if isinstance(event, TokenEvent):
                        record.token()
                        if event.text or event.logprob is not None:
                            yield Text(event.text, (event.logprob,) if event.logprob else ())
                    elif isinstance(event, DoneEvent):
                        record.done(event)
                        if tracing.enabled():
                            call = CALL.get()
                            loaded = call is not None and call.loaded
                            generation_spans(record.model, t0, load_ns, loaded, event)
                        yield Final(
                            done_reason=event.done_reason,
                            total_duration=time.perf_counter_ns() - t0,
                            load_duration=load_ns,
                            prompt_eval_count=event.prompt_eval_count,
                            prompt_eval_duration=event.prompt_eval_duration_ns,
                            eval_count=event.eval_count,
                            eval_duration=event.eval_duration_ns,
                            context=tuple(event.context) if plan.return_context else (),
                            max_batch=event.max_batch,
                            prompt_cached_count=event.prompt_cached_count,
                            stop_sequence=event.stop_sequence,
                        )
                    elif isinstance(event, ErrorEvent):
                        raise event.error
            finally:
                stream.cancel()  # no-op when finished; frees the slot when the RPC was cancelled

    async def load_or_unload(self, plan: Plan, t0: int) -> Final:
        """Empty prompt/messages: load the model, or unload it with keep_alive 0 (Ollama §1.2)."""
        keep_alive = keep_alive_of(plan.request)
        if keep_alive == 0:
            await self._scheduler.unload(plan.model.model_path)
            return Final("unload")
        await self._scheduler.load(plan.model, self.load_options(plan.request, plan.model), keep_alive)
        load_ns = time.perf_counter_ns() - t0
        return Final("load", total_duration=time.perf_counter_ns() - t0, load_duration=load_ns)
