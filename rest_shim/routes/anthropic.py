"""Anthropic's Messages API: POST /v1/messages, streamed as its named SSE events."""

from __future__ import annotations

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response

from rest_shim import streaming
from rest_shim.body import read_json
from rest_shim.codec import anthropic
from rest_shim.errors import http_status
from rest_shim.errors import message as error_message
from tokenwire_common import gojson

router = APIRouter()


def anthropic_error(status: int, message: str) -> Response:
    return streaming.json_response(anthropic.error_body(status, message), status)


def _rpc_error(err: grpc.aio.AioRpcError) -> Response:
    return anthropic_error(http_status(err.code()), error_message(err))


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {gojson.dumps(data)}\n\n".encode()


@router.post("/v1/messages")
async def messages(request: Request) -> Response:
    pb, stream = anthropic.messages_request_to_pb(await read_json(request, "MessagesRequest"))
    call = request.app.state.stubs.inference.Chat(pb, timeout=request.app.state.settings.deadline("chat"))
    if not stream:
        mid = anthropic.new_id()
        return await streaming.single(request, call, lambda m: anthropic.message_from_pb(m, mid), _rpc_error)
    events = anthropic.StreamEvents(pb.model)
    return await streaming.frames(
        call,
        lambda msg: [_event(name, data) for name, data in events.convert(msg)],
        media_type="text/event-stream",
        rpc_error=_rpc_error,
        error_frame=lambda err: _event(
            "error", anthropic.error_body(http_status(err.code()), error_message(err))
        ),
    )
