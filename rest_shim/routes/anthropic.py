"""Anthropic's Messages API: POST /v1/messages, streamed as its named SSE events."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rest_shim import calls, streaming
from rest_shim.body import decode
from rest_shim.codec import anthropic
from rest_shim.errors import message as error_message
from tokenwire_common.status import http_status

router = APIRouter()


def anthropic_error(status: int, message: str) -> Response:
    return streaming.json_response(anthropic.error_body(status, message), status)


_rpc_error = streaming.rpc_error_in(anthropic_error)


@router.post("/v1/messages")
async def messages(request: Request) -> Response:
    pb, stream = await decode(request, "MessagesRequest", anthropic.messages_request_to_pb)
    call = request.app.state.stubs.inference.Chat(pb, **calls.options(request, "chat", pb.model))
    if not stream:
        mid = anthropic.new_id()
        return await streaming.single(request, call, lambda m: anthropic.message_from_pb(m, mid), _rpc_error)
    events = anthropic.StreamEvents(pb.model)
    return await streaming.frames(
        request,
        call,
        lambda msg: [streaming.sse_event(name, data) for name, data in events.convert(msg)],
        media_type="text/event-stream",
        rpc_error=_rpc_error,
        error_frame=lambda err: streaming.sse_event(
            "error", anthropic.error_body(http_status(err.code()), error_message(err))
        ),
    )
