"""OpenAI's Responses API: POST /v1/responses, stateless, as Ollama serves it; plain, or
streamed as named server-sent events. Errors use OpenAI's envelope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rest_shim import calls, streaming
from rest_shim.body import decode
from rest_shim.codec import openai as oai
from rest_shim.codec import responses
from rest_shim.errors import message as error_message
from rest_shim.routes.openai import openai_error
from tokenwire_common.status import http_status

router = APIRouter()
_rpc_error = streaming.rpc_error_in(openai_error)


@router.post("/v1/responses")
async def create_response(request: Request) -> Response:
    pb, stream = await decode(request, "ResponsesRequest", responses.request_to_pb)
    call = request.app.state.stubs.inference.Chat(pb, **calls.options(request, "chat", pb.model))
    events = responses.ResponseEvents(pb.model)
    if not stream:
        return await streaming.single(
            request, call, lambda m: responses.response_from_pb(m, events.id, events.created), _rpc_error
        )
    return await streaming.frames(
        request,
        call,
        lambda msg: [streaming.sse_event(name, data) for name, data in events.convert(msg)],
        media_type="text/event-stream",
        rpc_error=_rpc_error,
        error_frame=lambda err: streaming.sse_event(
            "error", oai.error_body(http_status(err.code()), error_message(err))
        ),
    )
