"""OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /v1/embeddings,
/v1/models and /v1/models/{model}, as Ollama serves them (reference §10).

Errors use OpenAI's envelope. Streams are server-sent events ending with
`data: [DONE]`; as in the native routes, the first gRPC message decides the HTTP
status and a client that leaves cancels the RPC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response

from rest_shim import calls, choices, streaming
from rest_shim.body import decode
from rest_shim.codec import openai as oai
from rest_shim.errors import message as error_message
from tokenwire.v1 import models_pb2
from tokenwire_common import gojson
from tokenwire_common.status import http_status

router = APIRouter()
SSE = "text/event-stream"


def openai_error(status: int, message: str) -> Response:
    return streaming.json_response(oai.error_body(status, message), status)


_rpc_error = streaming.rpc_error_in(openai_error)


def _event(obj: Any) -> bytes:
    return f"data: {gojson.dumps(obj)}\n\n".encode()


async def _sse(request: Request, call: Any, convert: Callable[[Any], list[dict]]) -> Response:
    return await streaming.frames(
        request,
        call,
        lambda msg: [_event(obj) for obj in convert(msg)],
        media_type=SSE,
        rpc_error=_rpc_error,
        error_frame=lambda err: _event(oai.error_body(http_status(err.code()), error_message(err))),
        end=b"data: [DONE]\n\n",
    )


async def _answer(request: Request, call: Any, stream: bool, chunks: Any, whole: Callable) -> Response:
    """SSE chunks when streaming, else the one aggregated object (same id and created)."""
    if stream:
        return await _sse(request, call, chunks.convert)
    return await streaming.single(request, call, lambda m: whole(m, chunks.id, chunks.created), _rpc_error)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    (pb, stream, usage), n = await decode(
        request, "ChatCompletionRequest", lambda body: (oai.chat_request_to_pb(body), oai.choice_count(body))
    )
    if n > 1:
        return await _choices(request, pb, stream, usage, n)
    call = request.app.state.stubs.inference.Chat(pb, **calls.options(request, "chat", pb.model))
    return await _answer(request, call, stream, oai.ChatChunks(usage), oai.chat_completion_from_pb)


async def _choices(request: Request, pb: Any, stream: bool, usage: bool, n: int) -> Response:
    """`n` > 1: one Chat call per choice, answered as one completion with n choices."""
    merged = choices.Merged(
        [
            request.app.state.stubs.inference.Chat(one, **calls.options(request, "chat", one.model))
            for one in choices.copies(pb, n)
        ]
    )
    chunks = [oai.ChatChunks(False) for _ in range(n)]
    if stream:
        finals: list[Any] = []

        def convert(item: tuple[int, Any]) -> list[dict]:
            i, msg = item
            out = [oai.as_choice(c, i, chunks[0]) for c in chunks[i].convert(msg)]
            if msg.done:
                finals.append(msg)
                if usage and len(finals) == n:
                    out.append(oai.merged_usage_chunk(finals, chunks[0]))
            return out

        return await _sse(request, merged, convert)

    async def gather() -> list[Any]:
        last: dict[int, Any] = {}
        async for i, msg in merged:
            last[i] = msg
        return [last[i] for i in range(n)]

    try:
        return await streaming.unary(
            request,
            gather(),
            lambda finals: oai.chat_completion_choices(finals, chunks[0].id, chunks[0].created),
            _rpc_error,
        )
    finally:
        merged.cancel()


@router.post("/v1/completions")
async def completions(request: Request) -> Response:
    pb, stream, usage = await decode(request, "CompletionRequest", oai.completion_request_to_pb)
    call = request.app.state.stubs.inference.Generate(pb, **calls.options(request, "generate", pb.model))
    return await _answer(request, call, stream, oai.CompletionChunks(usage), oai.completion_from_pb)


@router.post("/v1/embeddings")
async def embeddings(request: Request) -> Response:
    pb, encoding = await decode(request, "EmbedRequest", oai.embeddings_request_to_pb)
    call = request.app.state.stubs.inference.Embed(pb, **calls.options(request, "embed", pb.model))
    return await streaming.unary(request, call, lambda r: oai.embeddings_from_pb(r, encoding), _rpc_error)


async def _models(request: Request) -> list[dict]:
    resp = await request.app.state.stubs.models.ListModels(
        models_pb2.ListModelsRequest(), **calls.options(request, "tags")
    )
    return [oai.model_from_pb(m) for m in resp.models]


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    try:
        return streaming.json_response({"object": "list", "data": await _models(request)})
    except grpc.aio.AioRpcError as err:
        return _rpc_error(err)


@router.get("/v1/models/{model:path}")
async def retrieve_model(request: Request, model: str) -> Response:
    try:
        models = await _models(request)
    except grpc.aio.AioRpcError as err:
        return _rpc_error(err)
    wanted = {model.casefold(), f"{model}:latest".casefold()}
    for m in models:
        if m["id"].casefold() in wanted:
            return streaming.json_response(m)
    return openai_error(404, f"model '{model}' not found")
