"""NDJSON streaming of a server-streaming RPC, with Ollama's error contract.

The HTTP status is decided by the first gRPC message: an error before it is a real
HTTP error (status from the one table in errors.py); an error after it becomes a
final {"error": ...} line in a 200 stream. A client that goes away cancels the RPC,
which stops the work in the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from rest_shim.errors import message as error_message
from rest_shim.errors import www_authenticate
from tokenwire_common import gojson
from tokenwire_common.status import http_status

NDJSON = "application/x-ndjson"
JSON = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200) -> Response:
    return Response(gojson.dumps(body), status_code=status, media_type=JSON)


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def rpc_error_in(envelope: Callable[[int, str], Response]) -> Callable[[grpc.aio.AioRpcError], Response]:
    """A gRPC error as an HTTP error in an API's envelope; a refusal for credentials
    carries the server's challenge as WWW-Authenticate."""

    def render(err: grpc.aio.AioRpcError) -> Response:
        response = envelope(http_status(err.code()), error_message(err))
        if challenge := www_authenticate(err):
            response.headers["www-authenticate"] = challenge
        return response

    return render


rpc_error_response = rpc_error_in(error_response)


async def _until_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _unless_disconnect(request: Request, awaitable: Awaitable[Any]) -> asyncio.Future | None:
    """The awaitable's finished future, or None (and the awaitable cancelled) if the
    client leaves first. Until its first message a request may wait for a slot or sit
    in a long prefill with no byte to send; this notices the client leaving there, not
    at the first write (four abandoned long prompts once delayed the next user's first
    token from 0.13 s to 26-43 s)."""
    task = asyncio.ensure_future(awaitable)
    watch = asyncio.ensure_future(_until_disconnect(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
    if not task.done():
        task.cancel()
        return None
    return task


async def unary(
    request: Request,
    call: Any,
    encode: Callable[[Any], Any],
    rpc_error: Callable[[grpc.aio.AioRpcError], Response] = rpc_error_response,
) -> Response:
    """Await a unary (or single-message) call; cancel it if the client disconnects first.
    rpc_error renders a gRPC error in the route's envelope (Ollama's by default)."""
    rpc = await _unless_disconnect(request, call)
    if rpc is None:
        return error_response(499, "request canceled")
    try:
        body = encode(rpc.result())
    except grpc.aio.AioRpcError as err:
        return rpc_error(err)
    # An encoder that returns None means Ollama's empty 200 (copy, delete).
    return Response(status_code=200) if body is None else json_response(body)


async def single(
    request: Request,
    call: grpc.aio.UnaryStreamCall,
    encode: Callable[[Any], Any],
    rpc_error: Callable[[grpc.aio.AioRpcError], Response] = rpc_error_response,
) -> Response:
    """A streaming RPC asked for with stream:false: the server sends one aggregated message."""

    async def last() -> Any:
        last_msg = None
        async for msg in call:
            last_msg = msg
        return last_msg

    try:
        return await unary(request, last(), encode, rpc_error)
    finally:
        call.cancel()


async def frames(
    request: Request,
    call: grpc.aio.UnaryStreamCall,
    encode: Callable[[Any], Iterable[bytes]],
    *,
    media_type: str,
    rpc_error: Callable[[grpc.aio.AioRpcError], Response] = rpc_error_response,
    error_frame: Callable[[grpc.aio.AioRpcError], bytes],
    end: bytes = b"",
) -> Response:
    """Stream a server-streaming call as frames (NDJSON lines, SSE events), with the
    status decided by the first message: an error before it is a real HTTP error; one
    after it is a final error frame in the 200 stream; `end` closes a stream."""
    it = call.__aiter__()
    arrived = await _unless_disconnect(request, it.__anext__())
    if arrived is None:
        call.cancel()
        return error_response(499, "request canceled")
    try:
        first = arrived.result()
    except StopAsyncIteration:
        return Response(status_code=200, media_type=media_type)
    except grpc.aio.AioRpcError as err:
        return rpc_error(err)

    async def body() -> AsyncIterator[bytes]:
        try:
            for frame in encode(first):
                yield frame
            async for msg in it:
                for frame in encode(msg):
                    yield frame
        except grpc.aio.AioRpcError as err:
            yield error_frame(err)
        if end:
            yield end

    return CancellingStream(body(), call, media_type=media_type)


def sse_event(name: str, data: Any) -> bytes:
    """A named server-sent event (Anthropic's and the Responses API's streams)."""
    return f"event: {name}\ndata: {gojson.dumps(data)}\n\n".encode()


def _ndjson_line(obj: Any) -> bytes:
    return (gojson.dumps(obj) + "\n").encode()


async def ndjson(request: Request, call: grpc.aio.UnaryStreamCall, encode: Callable[[Any], Any]) -> Response:
    """Stream a server-streaming call as NDJSON, one encoded message a line."""
    return await frames(
        request,
        call,
        lambda msg: (_ndjson_line(encode(msg)),),
        media_type=NDJSON,
        error_frame=lambda err: _ndjson_line({"error": error_message(err)}),
    )


async def ndjson_or_single(
    request: Request, pb: Any, call: grpc.aio.UnaryStreamCall, encode: Callable[[Any], Any]
) -> Response:
    """Ollama's streaming routes: NDJSON by default; with `"stream": false` in the
    request, one JSON object (the server then sends only its aggregated last message)."""
    if pb.HasField("stream") and not pb.stream:
        return await single(request, call, encode)
    return await ndjson(request, call, encode)


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
