"""This server's RPCs as an in-process channel, for the REST shim run inside the server
process (TOKENWIRE_REST_INPROCESS, server/rest.py): what grpc-java's InProcessChannel
and grpc-go's bufconn are, which grpcio does not have.

A call goes through the same interceptors and handlers as one over the wire (auth,
metrics, drain, errors, tracing), with the same deadline, cancellation and status
behaviour, but no HTTP/2, no serialization and no thread hop. Over a Unix socket the hop
alone cost 1.25-1.45 ms from a call to its first message, with an empty handler
(measured here, 2026-12-03); in REST's first token it was about 1.7 ms of the 3.5 the
server path took beyond the prefill (bench/first_token).

The stubs the shim uses are the generated ones, given this channel: they call
`unary_unary`, `unary_stream` and `stream_unary` with a method path, and get back calls
that behave as grpc.aio's do for what the shim reads of them (awaiting, iterating,
cancel, AioRpcError with code, details and trailing metadata). The context has only the
ServicerContext methods the server's code calls: another one fails loudly in the tests
instead of being quietly ignored.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

Metadata = tuple[tuple[str, str | bytes], ...]


@dataclass(frozen=True)
class _Details(grpc.HandlerCallDetails):
    method: str
    invocation_metadata: Metadata


class Handlers:
    """What the generated `add_*Servicer_to_server` register, recorded for the channel
    and passed on to the real server."""

    def __init__(self, server: grpc.aio.Server):
        self._server = server
        self.generic: list[grpc.GenericRpcHandler] = []

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self.generic.extend(handlers)
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict) -> None:
        self._server.add_registered_method_handlers(service, handlers)


def _rpc_error(code: grpc.StatusCode, details: str, trailing: Metadata = ()) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details)


class Context:
    """The grpc.aio.ServicerContext methods the server's code and interceptors call."""

    def __init__(self, metadata: Metadata, deadline: float | None):
        self._metadata = metadata
        self._deadline = deadline  # loop time
        self._code: grpc.StatusCode | None = None
        self._details = ""
        self._trailing: Metadata = ()

    def invocation_metadata(self) -> Metadata:
        return self._metadata

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - asyncio.get_running_loop().time()

    async def send_initial_metadata(self, metadata: Metadata) -> None:
        pass  # nothing to wake: the caller's read is already waiting on the same loop

    def set_trailing_metadata(self, metadata: Metadata) -> None:
        self._trailing = tuple(metadata)

    def code(self) -> grpc.StatusCode | None:
        return self._code

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Metadata = ()) -> None:
        self._code, self._details = code, details
        if trailing_metadata:
            self._trailing = tuple(trailing_metadata)
        raise grpc.aio.AbortError()

    async def abort_with_status(self, status: grpc.Status) -> None:
        await self.abort(status.code, status.details, status.trailing_metadata)

    def error(self) -> grpc.aio.AioRpcError:
        return _rpc_error(self._code or grpc.StatusCode.UNKNOWN, self._details, self._trailing)


class _Call:
    """One call's handler, run as a task on the caller's loop (as grpc runs a handler
    apart from its caller); its deadline cancels it, and so does `cancel()`."""

    def __init__(self, run: Callable[[Context], Awaitable[Any]], metadata: Metadata, timeout: float | None):
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self._context = Context(metadata, deadline)
        self._expired = False
        # A fresh context, as a call from another process would have: the caller's
        # context variables (its span, its request) are not the handler's.
        self._task = loop.create_task(run(self._context), context=contextvars.Context())
        self._timer = None if deadline is None else loop.call_at(deadline, self._expire)
        self._task.add_done_callback(lambda _: self._timer and self._timer.cancel())

    def _expire(self) -> None:
        self._expired = True
        self._task.cancel()

    def cancel(self) -> bool:
        return self._task.cancel()

    async def _outcome(self, awaitable: Awaitable[Any]) -> Any:
        """The handler's result, or the AioRpcError a caller over the wire would get."""
        try:
            return await awaitable
        except grpc.aio.AbortError:
            raise self._context.error() from None
        except grpc.aio.AioRpcError:
            raise  # no handler for the method
        except asyncio.CancelledError:
            if self._expired:
                raise _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
            raise
        except Exception as exc:  # not a status the handler chose: grpcio's UNKNOWN
            raise _rpc_error(grpc.StatusCode.UNKNOWN, f"Unexpected {type(exc)}: {exc}") from exc


class _UnaryResponseCall(_Call):
    def __await__(self):
        return self._outcome(self._task).__await__()


class _StreamResponseCall(_Call):
    """The handler runs as a task that queues its messages: as over the wire, it runs
    ahead of its reader (gRPC's flow control lets it write ahead too) and its
    cancellation is the task's. The queue's last item, put when the task ends however
    it ends, is None."""

    def __init__(self, behaviour, request: Any, metadata: Metadata, timeout: float | None):
        self._queue: asyncio.Queue[tuple[Any] | None] = asyncio.Queue()

        async def run(context: Context) -> None:
            async for message in behaviour(request, context):
                self._queue.put_nowait((message,))

        super().__init__(run, metadata, timeout)
        self._task.add_done_callback(lambda _: self._queue.put_nowait(None))

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._read()

    async def _read(self) -> AsyncIterator[Any]:
        try:
            while (item := await self._queue.get()) is not None:
                yield item[0]
            await self._outcome(self._task)
        finally:
            self._task.cancel()  # the reader left (GeneratorExit) or was cancelled


class _Method:
    def __init__(self, channel: InProcessChannel, method: str, streaming_response: bool):
        self._channel, self._method, self._streaming = channel, method, streaming_response

    def __call__(self, request: Any, *, timeout: float | None = None, metadata: Iterable | None = None,
                 **_: Any) -> _Call:  # fmt: skip
        md: Metadata = tuple((k, v) for k, v in (metadata or ()))
        channel, method = self._channel, self._method
        if self._streaming:

            async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
                handler = await channel.handler(method, md)
                fn = handler.unary_stream or handler.stream_stream
                async for message in fn(request, context):
                    yield message

            return _StreamResponseCall(stream, _requests(request), md, timeout)

        async def unary(context: Context) -> Any:
            handler = await channel.handler(method, md)
            fn = handler.unary_unary or handler.stream_unary
            return await fn(_requests(request) if handler.stream_unary else request, context)

        return _UnaryResponseCall(unary, md, timeout)


def _requests(request: Any) -> Any:
    """A client-streaming call's request iterator, as the handler reads it (async)."""
    if isinstance(request, AsyncIterable) or not isinstance(request, Iterable):
        return request

    async def each() -> AsyncIterator[Any]:
        for item in request:
            yield item

    return each()


class InProcessChannel:
    """The stub-facing half of grpc.aio.Channel over this process's handlers and the
    server's interceptors, run in grpcio's order (the first interceptor outermost)."""

    def __init__(self, handlers: Handlers, interceptors: Sequence[grpc.aio.ServerInterceptor]):
        self._handlers = handlers
        self._interceptors = tuple(interceptors)

    def unary_unary(self, method: str, *_: Any, **__: Any) -> _Method:
        return _Method(self, method, False)

    def stream_unary(self, method: str, *_: Any, **__: Any) -> _Method:
        return _Method(self, method, False)

    def unary_stream(self, method: str, *_: Any, **__: Any) -> _Method:
        return _Method(self, method, True)

    async def handler(self, method: str, metadata: Metadata) -> grpc.RpcMethodHandler:
        details = _Details(method, metadata)
        handler = await self._intercepted(iter(self._interceptors), details)
        if handler is None:
            raise _rpc_error(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        return handler

    async def _intercepted(self, rest, details: _Details) -> grpc.RpcMethodHandler | None:
        interceptor = next(rest, None)
        if interceptor is None:
            for generic in self._handlers.generic:
                if (found := generic.service(details)) is not None:
                    return found
            return None
        return await interceptor.intercept_service(lambda d: self._intercepted(rest, d), details)

    async def close(self) -> None:
        pass
