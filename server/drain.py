"""Graceful drain: count the RPCs in flight, health aside.

Shutdown (server/__main__.py) closes the port with grpc.aio's `stop(grace)`, which lets
the calls in flight run; but an open health Watch stream counts there as in-flight
work and would hold the process for the whole grace. So the server waits here until
nothing but health is in flight, then stops for good.

New work is not refused here: while `draining` (health NOT_SERVING, before the port
closes), requests that a proxy still sends are served, so none of them fails; once the
port is closed, gRPC itself refuses new calls and connections, and a proxy retries
another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from server.interceptors import Behaviour, rewrap

HEALTH = "/grpc.health.v1.Health/"


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
