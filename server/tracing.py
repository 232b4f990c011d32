"""The server's spans: one per RPC (its parent from the caller's `traceparent`), and
under a generation its phases, queue (with load when this request loaded the model),
prefill and decode, with token counts as attributes.

The phases run in the engine thread; their spans are made when the request ends, from
the durations the engine measured, with explicit start and end times, so the decode
loop is never touched. Nothing here runs unless tokenwire_common.tracing is configured.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from server.engine.types import DoneEvent
from server.interceptors import Behaviour, rewrap
from tokenwire_common import tracing

HEALTH = "/grpc.health.v1.Health/"


class TracingInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(HEALTH):
            return handler
        from opentelemetry import context as otel_context
        from opentelemetry import trace

        name = details.method.strip("/")
        parent = tracing.extract(details.invocation_metadata or ())
        tracer = tracing.tracer()

        def start():
            span = tracer.start_span(name, context=parent, kind=trace.SpanKind.SERVER,
                                     attributes={"rpc.system": "grpc", "rpc.method": name})  # fmt: skip
            return span, otel_context.attach(trace.set_span_in_context(span))

        def finish(span, token, error: BaseException | None) -> None:
            if error is not None:
                span.set_attribute("rpc.grpc.error", type(error).__name__)
                if isinstance(error, Exception) and not isinstance(error, grpc.aio.AbortError):
                    span.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
            span.end()
            otel_context.detach(token)

        def around(fn: Behaviour, _streamed: bool) -> Behaviour:
            async def traced(request, context):
                span, token = start()
                error = None
                try:
                    return await fn(request, context)
                except BaseException as e:
                    error = e
                    raise
                finally:
                    finish(span, token, error)

            return traced

        def around_stream(fn: Behaviour, _streamed: bool) -> Behaviour:
            async def traced(request, context) -> AsyncIterator:
                span, token = start()
                error = None
                try:
                    async for item in fn(request, context):
                        yield item
                except BaseException as e:
                    error = e
                    raise
                finally:
                    finish(span, token, error)

            return traced

        return rewrap(handler, around, around_stream)


def generation_spans(model: str, t0_perf_ns: int, load_ns: int, loaded: bool, event: DoneEvent) -> None:
    """The phases of a finished generation, as children of the current RPC span."""
    tracer = tracing.tracer()
    if tracer is None:
        return
    now_wall, now_perf = time.time_ns(), time.perf_counter_ns()
    start = now_wall - (now_perf - t0_perf_ns)  # the request's arrival, wall clock
    decode_start = now_wall - event.eval_duration_ns
    prefill_start = decode_start - event.prompt_eval_duration_ns
    attrs = {"tokenwire.model": model}
    queue = tracer.start_span("queue", start_time=start, attributes={
        **attrs, "tokenwire.load_ns": load_ns, "tokenwire.queued_ns": event.queued_ns})  # fmt: skip
    if loaded:
        from opentelemetry import trace

        inside = trace.set_span_in_context(queue)
        tracer.start_span("load", context=inside, start_time=start, attributes=attrs).end(
            end_time=start + load_ns
        )
    queue.end(end_time=max(start, prefill_start))
    prefill = tracer.start_span("prefill", start_time=prefill_start, attributes={
        **attrs,
        "tokenwire.prompt_tokens": event.prompt_eval_count,
        "tokenwire.prompt_cached_tokens": event.prompt_cached_count,
    })  # fmt: skip
    prefill.end(end_time=decode_start)
    decode = tracer.start_span("decode", start_time=decode_start, attributes={
        **attrs, "tokenwire.generated_tokens": event.eval_count, "tokenwire.done_reason": event.done_reason,
        "tokenwire.max_batch": event.max_batch})  # fmt: skip
    decode.end(end_time=now_wall)
