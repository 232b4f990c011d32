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

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.errors import TokenwireError

_LOG = logging.getLogger(__name__)
DOMAIN = "tokenwire.dev"


def _status(exc: BaseException) -> grpc.Status:
    if isinstance(exc, TokenwireError):
        code, message, reason, metadata = exc.code, exc.message, exc.reason, exc.metadata
    else:
        code, reason, metadata = grpc.StatusCode.INTERNAL, "INTERNAL", {}
        message = f"an error was encountered while running the model: {exc}"
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata))
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message, details=[info]))


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException, method: str) -> None:
    if not isinstance(exc, TokenwireError):
        _LOG.exception("%s failed", method, exc_info=exc)
    await context.abort_with_status(_status(exc))


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

        def wrap_unary(fn):
            async def call(request, context):
                try:
                    return await fn(request, context)
                except (asyncio.CancelledError, grpc.aio.AbortError):
                    raise
                except Exception as exc:
                    await _abort(context, exc, method)

            return call

        def wrap_stream(fn):
            if not inspect.isasyncgenfunction(fn):
                # Handlers that stream with context.write() (e.g. health Watch) are coroutines.
                return wrap_unary(fn)

            async def call(request, context) -> AsyncIterator:
                try:
                    async for item in fn(request, context):
                        yield item
                except (asyncio.CancelledError, grpc.aio.AbortError):
                    raise
                except Exception as exc:
                    await _abort(context, exc, method)

            return call

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                wrap_unary(handler.unary_unary), handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                wrap_stream(handler.unary_stream), handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                wrap_unary(handler.stream_unary), handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                wrap_stream(handler.stream_stream), handler.request_deserializer, handler.response_serializer
            )
        return handler
