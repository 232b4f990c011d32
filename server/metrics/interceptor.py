"""Per-RPC counters (go-grpc-prometheus's grpc_server_started_total and
grpc_server_handled_total) and the call context that lets a cancelled request say why:
the client left, its deadline passed, or the server is shutting down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from server.interceptors import Behaviour, rewrap
from server.metrics import GRPC_HANDLED, GRPC_STARTED
from server.metrics.request import CALL, Call

HEALTH = "/grpc.health.v1.Health/"


# How close to its deadline a cancelled call counts as having hit it. The client's
# deadline fires first and its RST_STREAM can beat the server's own timer: the server set
# its deadline from grpc-timeout when the headers arrived, later than the client sent them
# by however long a busy server took to read them. 10 ms was too little once in CI
# (2026-12-03, llama.cpp's threads on both cores): a 1 s deadline counted as "client".
DEADLINE_SLACK_S = 0.25


def _deadline_passed(context: grpc.aio.ServicerContext) -> Callable[[], bool]:
    def passed() -> bool:
        remaining = context.time_remaining()
        return remaining is not None and remaining <= DEADLINE_SLACK_S

    return passed


def _code(context: grpc.aio.ServicerContext, error: BaseException | None, call: Call) -> str:
    # A streaming handler ends early in one of two ways: cancelled while it awaits (the
    # engine's next token), or closed (GeneratorExit) while it waits at a yield for gRPC
    # to write the last message, which is where a deadline lands when writes are slow.
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return "DEADLINE_EXCEEDED" if call.deadline_passed() else "CANCELLED"
    code = context.code()
    if code is None:
        return "OK" if error is None else "UNKNOWN"
    return code.name if isinstance(code, grpc.StatusCode) else grpc.StatusCode(code).name


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, draining: Callable[[], bool]):
        self._draining = draining

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(HEALTH):  # probes would drown the rest
            return handler
        service, _, method = details.method.strip("/").rpartition("/")
        started, handled = GRPC_STARTED.labels(service, method), GRPC_HANDLED

        def begin(context: grpc.aio.ServicerContext) -> Call:
            started.inc()
            call = Call(_deadline_passed(context), self._draining)
            CALL.set(call)
            return call

        def around(fn: Behaviour, _streamed: bool) -> Behaviour:
            async def counted(request, context):
                call, error = begin(context), None
                try:
                    return await fn(request, context)
                except BaseException as e:
                    error = e
                    raise
                finally:
                    handled.labels(service, method, _code(context, error, call)).inc()

            return counted

        def around_stream(fn: Behaviour, _streamed: bool) -> Behaviour:
            async def counted(request, context) -> AsyncIterator:
                call, error = begin(context), None
                try:
                    async for item in fn(request, context):
                        yield item
                except BaseException as e:
                    error = e
                    raise
                finally:
                    handled.labels(service, method, _code(context, error, call)).inc()

            return counted

        return rewrap(handler, around, around_stream)
