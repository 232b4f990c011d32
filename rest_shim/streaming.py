"""NDJSON streaming of a server-streaming RPC, with Ollama's error contract.

The HTTP status is decided by the first gRPC message: an error before it is a real
HTTP error (status from the one table in errors.py); an error after it becomes a
final {"error": ...} line in a 200 stream. A client that goes away cancels the RPC,
which stops the work in the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from rest_shim.errors import http_status
from tokenwire_common import gojson

NDJSON = "application/x-ndjson"
JSON = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200) -> Response:
    return Response(gojson.dumps(body), status_code=status, media_type=JSON)


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def rpc_error_response(err: grpc.aio.AioRpcError) -> Response:
    return error_response(http_status(err.code()), err.details() or err.code().name.lower())


async def _until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unary(request: Request, call: Any, encode: Callable[[Any], Any]) -> Response:
    """Await a unary (or single-message) call; cancel it if the client disconnects first."""
    rpc = asyncio.ensure_future(call)
    watch = asyncio.ensure_future(_until_disconnect(request))
    try:
        await asyncio.wait({rpc, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
    if not rpc.done():
        rpc.cancel()
        return error_response(499, "request canceled")
    try:
        body = encode(rpc.result())
    except grpc.aio.AioRpcError as err:
        return rpc_error_response(err)
    # An encoder that returns None means Ollama's empty 200 (copy, delete).
    return Response(status_code=200) if body is None else json_response(body)


async def single(request: Request, call: grpc.aio.UnaryStreamCall, encode: Callable[[Any], Any]) -> Response:
    """A streaming RPC asked for with stream:false: the server sends one aggregated message."""

    async def last() -> Any:
        last_msg = None
        async for msg in call:
            last_msg = msg
        return last_msg

    try:
        return await unary(request, last(), encode)
    finally:
        call.cancel()


async def ndjson(call: grpc.aio.UnaryStreamCall, encode: Callable[[Any], Any]) -> Response:
    """Stream a server-streaming call as NDJSON, status decided by the first message."""
    it = call.__aiter__()
    try:
        first = await it.__anext__()
    except StopAsyncIteration:
        return Response(status_code=200, media_type=NDJSON)
    except grpc.aio.AioRpcError as err:
        return rpc_error_response(err)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield (gojson.dumps(encode(first)) + "\n").encode()
            async for msg in it:
                yield (gojson.dumps(encode(msg)) + "\n").encode()
        except grpc.aio.AioRpcError as err:
            yield (gojson.dumps({"error": err.details()}) + "\n").encode()

    return CancellingStream(body(), call, media_type=NDJSON)


class CancellingStream(StreamingResponse):
    """A StreamingResponse that watches for the client leaving the whole time (also
    while no bytes flow, e.g. during a long prefill) and then cancels the RPC."""

    def __init__(self, content: AsyncIterator[bytes], call: grpc.aio.Call, **kw: Any):
        super().__init__(content, **kw)
        self._call = call

    async def __call__(self, scope, receive, send) -> None:
        async def stream() -> None:
            await self.stream_response(send)

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.ensure_future(stream()), asyncio.ensure_future(watch())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if not t.cancelled() and t.exception() and t is tasks[0]:
                    raise t.exception()
        except OSError:
            pass  # the client went away mid-write
        finally:
            for t in tasks:
                t.cancel()
            self._call.cancel()  # no-op when finished; stops the engine when the client left
