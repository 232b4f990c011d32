"""The one place that turns exceptions into gRPC statuses.

A TokenwireError becomes its own code with google.rpc.ErrorInfo (reason, domain,
metadata) in the status details; anything else is logged and becomes INTERNAL with
Ollama's runner-error wording. Cancellation propagates untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.errors import InvalidArgument, TokenwireError
from tokenwire_common.limits import clip

_LOG = logging.getLogger(__name__)
DOMAIN = "tokenwire.dev"


def _status(exc: BaseException) -> grpc.Status:
    if isinstance(exc, TokenwireError):
        code, message, reason, metadata = exc.code, exc.message, exc.reason, exc.metadata
    else:
        code, reason, metadata = grpc.StatusCode.INTERNAL, "INTERNAL", {}
        # An OSError's text names its file: say what happened, never where the store is.
        detail = exc.strerror or type(exc).__name__ if isinstance(exc, OSError) else exc
        message = f"an error was encountered while running the model: {detail}"
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata))
    status = status_pb2.Status(code=code.value[0], message=clip(message), details=[info])
    return rpc_status.to_status(status)


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException, method: str) -> None:
    if not isinstance(exc, TokenwireError):
        _LOG.exception("%s failed", method, exc_info=exc)
    await context.abort_with_status(_status(exc))


class _Undecodable:
    """What a request that protobuf could not parse becomes, so the handler can answer
    INVALID_ARGUMENT (a deserializer that raises makes grpcio answer UNKNOWN)."""

    def __init__(self, error: Exception):
        self.error = error


def _tolerant(deserializer: Callable[[bytes], object] | None) -> Callable[[bytes], object] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> object:
        try:
            return deserializer(data)
        except Exception as exc:
            return _Undecodable(exc)

    return decode


def _check_decoded(request: object) -> None:
    if isinstance(request, _Undecodable):
        raise InvalidArgument(f"invalid request: the message could not be decoded ({request.error})")


async def _checked_stream(requests: AsyncIterator) -> AsyncIterator:
    async for request in requests:
        _check_decoded(request)
        yield request


def _decoded(request: Any, streamed: bool) -> Any:
    """The request, refused if undecodable; a request stream is checked as it is read."""
    if streamed:
        return _checked_stream(request)
    _check_decoded(request)
    return request


Behaviour = Callable[..., Any]


def rewrap(
    handler: grpc.RpcMethodHandler,
    around: Callable[[Behaviour, bool], Behaviour],
    around_stream: Callable[[Behaviour, bool], Behaviour],
) -> grpc.RpcMethodHandler:
    """The same handler with its behaviour wrapped: `around(fn, streamed_request)` for
    handlers that return once (and streaming ones written as coroutines, such as health
    Watch), `around_stream(fn, streamed_request)` for async-generator handlers. Requests
    that protobuf cannot parse reach the behaviour as _Undecodable."""
    decode, encode = _tolerant(handler.request_deserializer), handler.response_serializer

    def streaming(fn: Behaviour, streamed_request: bool) -> Behaviour:
        if inspect.isasyncgenfunction(fn):
            return around_stream(fn, streamed_request)
        return around(fn, streamed_request)

    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(around(handler.unary_unary, False), decode, encode)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(streaming(handler.unary_stream, False), decode, encode)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(around(handler.stream_unary, True), decode, encode)
    # Reflection's one bidirectional RPC.
    return grpc.stream_stream_rpc_method_handler(streaming(handler.stream_stream, True), decode, encode)


def refusal(
    handler: grpc.RpcMethodHandler,
    code: grpc.StatusCode,
    message: str,
    trailing: tuple[tuple[str, str], ...] = (),
) -> grpc.RpcMethodHandler:
    """A handler of the same shape that answers `code` without running anything."""

    async def refuse(request, context):
        if trailing:
            context.set_trailing_metadata(trailing)
        await context.abort(code, message)

    async def refuse_stream(request, context) -> AsyncIterator:
        await refuse(request, context)
        yield  # an async generator, as the handler it replaces

    return rewrap(handler, lambda fn, _: refuse, lambda fn, _: refuse_stream)


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method

        def around(fn: Behaviour, streamed_request: bool) -> Behaviour:
            async def call(request, context):
                try:
                    request = _decoded(request, streamed_request)
                    return await fn(request, context)
                except (asyncio.CancelledError, grpc.aio.AbortError):
                    raise
                except Exception as exc:
                    await _abort(context, exc, method)

            return call

        def around_stream(fn: Behaviour, streamed_request: bool) -> Behaviour:
            async def call(request, context) -> AsyncIterator:
                try:
                    request = _decoded(request, streamed_request)
                    async for item in fn(request, context):
                        yield item
                except (asyncio.CancelledError, grpc.aio.AbortError):
                    raise
                except Exception as exc:
                    await _abort(context, exc, method)

            return call

        return rewrap(handler, around, around_stream)
