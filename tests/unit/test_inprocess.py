"""server/inprocess.py: a call on the in-process channel ends as one over the wire would
(messages, a status the handler aborts with, its deadline, its caller cancelling), with
the server's interceptors around it. A toy servicer, no model: this is the channel's
own behaviour; tests/e2e/inprocess runs the REST suite through it on the real server."""

from __future__ import annotations

import asyncio
import contextvars

import grpc
import pytest

from server.errors import NotFound
from server.inprocess import Handlers, InProcessChannel
from server.interceptors import ErrorInterceptor
from tokenwire.v1 import inference_pb2, inference_pb2_grpc

CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="unset")


class Toy(inference_pb2_grpc.InferenceServiceServicer):
    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self.metadata: dict = {}

    async def Generate(self, request, context):
        self.metadata = dict(context.invocation_metadata())
        self.caller = CALLER.get()
        if request.model == "missing":
            raise NotFound(f"model '{request.model}' not found")
        for word in request.prompt.split():
            yield inference_pb2.GenerateResponse(response=word)
        if request.model == "forever":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise

    async def Embeddings(self, request, context):
        context.set_trailing_metadata((("www-authenticate", "Basic"),))
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unauthorized: missing credentials")


class _Recorder:
    def add_generic_rpc_handlers(self, handlers) -> None:
        pass

    def add_registered_method_handlers(self, service, handlers) -> None:
        pass


def _stub(toy: Toy) -> inference_pb2_grpc.InferenceServiceStub:
    handlers = Handlers(_Recorder())  # type: ignore[arg-type]
    inference_pb2_grpc.add_InferenceServiceServicer_to_server(toy, handlers)
    return inference_pb2_grpc.InferenceServiceStub(InProcessChannel(handlers, [ErrorInterceptor()]))


async def test_messages_then_the_end():
    stub = _stub(Toy())
    call = stub.Generate(inference_pb2.GenerateRequest(model="m", prompt="a b c"), metadata=[("k", "v")])
    assert [m.response async for m in call] == ["a", "b", "c"]


async def test_an_error_is_the_status_the_interceptor_gives_it():
    stub = _stub(Toy())
    with pytest.raises(grpc.aio.AioRpcError) as e:
        async for _ in stub.Generate(inference_pb2.GenerateRequest(model="missing")):
            pass
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.NOT_FOUND, "model 'missing' not found")


async def test_an_abort_carries_its_trailing_metadata():
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await _stub(Toy()).Embeddings(inference_pb2.EmbeddingsRequest(model="m"))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ("www-authenticate", "Basic") in tuple(e.value.trailing_metadata())


async def test_a_deadline_cancels_the_handler_and_is_deadline_exceeded():
    toy = Toy()
    call = _stub(toy).Generate(inference_pb2.GenerateRequest(model="forever", prompt="x"), timeout=0.2)
    seen = []
    with pytest.raises(grpc.aio.AioRpcError) as e:
        async for m in call:
            seen.append(m.response)
    assert seen == ["x"] and e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert toy.cancelled.is_set()


async def test_a_reader_that_leaves_cancels_the_handler():
    toy = Toy()
    call = _stub(toy).Generate(inference_pb2.GenerateRequest(model="forever", prompt="x"))
    it = call.__aiter__()
    assert (await it.__anext__()).response == "x"
    await it.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(toy.cancelled.wait(), 5)


async def test_the_handler_sees_the_callers_metadata_not_its_context_variables():
    toy = Toy()
    CALLER.set("the shim's request")
    call = _stub(toy).Generate(
        inference_pb2.GenerateRequest(prompt="x"), metadata=[("authorization", "Basic x")]
    )
    assert [m.response async for m in call] == ["x"]
    assert toy.metadata == {"authorization": "Basic x"} and toy.caller == "unset"


async def test_an_unknown_method_is_unimplemented():
    channel = InProcessChannel(Handlers(_Recorder()), [])  # type: ignore[arg-type]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await channel.unary_unary("/no.Such/Method")(object())
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
