"""Graceful drain: count the RPCs in flight and, once draining, refuse new ones.

grpc.aio's own `stop(grace)` refuses every new RPC at once, health checks included, so
a probe during the drain saw UNAVAILABLE instead of NOT_SERVING; and an open health
Watch stream counted as in-flight work and held the process for the whole grace. So
health is neither counted nor refused here: the server drains the rest, then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from server.interceptors import Behaviour, refusal, rewrap

HEALTH = "/grpc.health.v1.Health/"
SHUTTING_DOWN = "the server is shutting down"


class Drain(grpc.aio.ServerInterceptor):
    def __init__(self) -> None:
        self.draining = False
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(HEALTH):
            return handler
        if self.draining:
            return refusal(handler, grpc.StatusCode.UNAVAILABLE, SHUTTING_DOWN)
        return rewrap(handler, self._counted, self._counted_stream)

    @contextlib.contextmanager
    def _in_flight(self):
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    def _counted(self, fn: Behaviour, _streamed_request: bool) -> Behaviour:
        async def call(request, context):
            with self._in_flight():
                return await fn(request, context)

        return call

    def _counted_stream(self, fn: Behaviour, _streamed_request: bool) -> Behaviour:
        async def call(request, context) -> AsyncIterator:
            with self._in_flight():
                async for item in fn(request, context):
                    yield item

        return call

    async def drained(self, grace_s: float) -> bool:
        """Wait until nothing but health is in flight; False if `grace_s` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace_s)
        except TimeoutError:
            return False
        return True
