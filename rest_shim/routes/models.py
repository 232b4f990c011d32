"""Model management routes: tags, show, create, copy, delete, blobs, pull, push."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

from rest_shim import calls, streaming
from rest_shim.body import decode
from rest_shim.codec.models import (
    copy_request_to_pb,
    create_request_to_pb,
    delete_request_to_pb,
    list_models_response_from_pb,
    list_running_response_from_pb,
    progress_from_pb,
    pull_request_to_pb,
    push_request_to_pb,
    show_request_to_pb,
    show_response_from_pb,
)
from tokenwire.v1 import models_pb2

router = APIRouter()
BLOB_CHUNK = 1 << 20  # keep every message well under gRPC's 4 MiB default


def _stub(request: Request):
    return request.app.state.stubs.models


@router.api_route("/api/tags", methods=["GET", "HEAD"])
async def tags(request: Request) -> Response:
    return await streaming.unary(
        request,
        _stub(request).ListModels(models_pb2.ListModelsRequest(), **calls.options(request, "tags")),
        list_models_response_from_pb,
    )


@router.get("/api/ps")
async def ps(request: Request) -> Response:
    call = _stub(request).ListRunningModels(
        models_pb2.ListRunningModelsRequest(), **calls.options(request, "ps")
    )
    return await streaming.unary(request, call, list_running_response_from_pb)


@router.post("/api/show")
async def show(request: Request) -> Response:
    pb = await decode(request, "ShowRequest", show_request_to_pb)
    return await streaming.unary(
        request,
        _stub(request).ShowModel(pb, **calls.options(request, "show", pb.model)),
        show_response_from_pb,
    )


@router.post("/api/create")
async def create(request: Request) -> Response:
    pb = await decode(request, "CreateRequest", create_request_to_pb)
    return await _progress(
        request, pb, _stub(request).CreateModel(pb, **calls.options(request, "create", pb.model))
    )


async def _progress(request: Request, pb, call) -> Response:
    """Create, pull and push: NDJSON progress, or only the last status with stream:false."""
    return await streaming.ndjson_or_single(request, pb, call, progress_from_pb)


@router.post("/api/pull")
async def pull(request: Request) -> Response:
    pb = await decode(request, "PullRequest", pull_request_to_pb)
    return await _progress(
        request, pb, _stub(request).PullModel(pb, **calls.options(request, "pull", pb.model))
    )


@router.post("/api/push")
async def push(request: Request) -> Response:
    pb = await decode(request, "PushRequest", push_request_to_pb)
    return await _progress(
        request, pb, _stub(request).PushModel(pb, **calls.options(request, "push", pb.model))
    )


def _empty(_: object) -> None:
    return None


@router.post("/api/copy")
async def copy(request: Request) -> Response:
    pb = await decode(request, "CopyRequest", copy_request_to_pb)
    return await streaming.unary(
        request, _stub(request).CopyModel(pb, **calls.options(request, "copy", pb.source)), _empty
    )


@router.delete("/api/delete")
async def delete(request: Request) -> Response:
    pb = await decode(request, "DeleteRequest", delete_request_to_pb)
    return await streaming.unary(
        request, _stub(request).DeleteModel(pb, **calls.options(request, "delete", pb.model)), _empty
    )


@router.head("/api/blobs/{digest}")
async def blob_exists(request: Request, digest: str) -> Response:
    try:
        r = await _stub(request).BlobExists(
            models_pb2.BlobExistsRequest(digest=digest), **calls.options(request)
        )
    except grpc.aio.AioRpcError as err:
        return streaming.rpc_error_response(err)
    return Response(status_code=200 if r.exists else 404)


@router.post("/api/blobs/{digest}")
async def create_blob(request: Request, digest: str) -> Response:
    stub = _stub(request)
    try:
        if (
            await stub.BlobExists(models_pb2.BlobExistsRequest(digest=digest), **calls.options(request))
        ).exists:
            return Response(status_code=200)
    except grpc.aio.AioRpcError as err:
        return streaming.rpc_error_response(err)

    left = False

    async def chunks() -> AsyncIterator[models_pb2.CreateBlobRequest]:
        # The body streams through in bounded chunks; it is never held whole.
        nonlocal left
        yield models_pb2.CreateBlobRequest(digest=digest)
        try:
            async for part in request.stream():
                for i in range(0, len(part), BLOB_CHUNK):
                    yield models_pb2.CreateBlobRequest(data=part[i : i + BLOB_CHUNK])
        except ClientDisconnect:
            left = True  # grpc cancels the call, and the server drops the partial blob
            raise

    try:
        r = await stub.CreateBlob(chunks(), **calls.options(request))
    except grpc.aio.AioRpcError as err:
        return streaming.rpc_error_response(err)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not left or (task is not None and task.cancelling()):
            raise
        return streaming.error_response(499, "request canceled")
    return Response(status_code=201 if r.created else 200)
