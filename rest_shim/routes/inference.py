"""POST /api/generate, /api/chat, /api/embed and /api/embeddings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rest_shim import calls, streaming
from rest_shim.body import decode
from rest_shim.codec.chat import chat_request_to_pb, chat_response_from_pb
from rest_shim.codec.embed import (
    embed_request_to_pb,
    embed_response_from_pb,
    embeddings_request_to_pb,
    embeddings_response_from_pb,
)
from rest_shim.codec.generate import generate_request_to_pb, generate_response_from_pb

router = APIRouter()


@router.post("/api/generate")
async def generate(request: Request) -> Response:
    pb = await decode(request, "GenerateRequest", generate_request_to_pb)
    call = request.app.state.stubs.inference.Generate(pb, **calls.options(request, "generate", pb.model))
    return await streaming.ndjson_or_single(request, pb, call, generate_response_from_pb)


@router.post("/api/chat")
async def chat(request: Request) -> Response:
    pb = await decode(request, "ChatRequest", chat_request_to_pb)
    call = request.app.state.stubs.inference.Chat(pb, **calls.options(request, "chat", pb.model))
    return await streaming.ndjson_or_single(request, pb, call, chat_response_from_pb)


@router.post("/api/embed")
async def embed(request: Request) -> Response:
    pb = await decode(request, "EmbedRequest", embed_request_to_pb)
    call = request.app.state.stubs.inference.Embed(pb, **calls.options(request, "embed", pb.model))
    return await streaming.unary(request, call, embed_response_from_pb)


@router.post("/api/embeddings")
async def embeddings(request: Request) -> Response:
    pb = await decode(request, "EmbeddingRequest", embeddings_request_to_pb)
    call = request.app.state.stubs.inference.Embeddings(pb, **calls.options(request, "embeddings", pb.model))
    return await streaming.unary(request, call, embeddings_response_from_pb)
