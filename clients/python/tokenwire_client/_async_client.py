"""AsyncClient: ollama-python's AsyncClient over grpc.aio; the same methods as Client,
awaited. `await client.generate(..., stream=True)` gives an async iterator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import grpc

from tokenwire.v1 import inference_pb2_grpc, models_pb2, models_pb2_grpc
from tokenwire_client import _convert as c
from tokenwire_client import _types as t
from tokenwire_client._client import BLOB_CHUNK, BaseClient, _digest
from tokenwire_client._errors import from_rpc_error
from tokenwire_client._stream import AsyncStream, aonly

T = TypeVar("T")


async def _blob_chunks(path: str | Path, digest: str) -> AsyncIterator[models_pb2.CreateBlobRequest]:
    with open(path, "rb") as f:  # noqa: ASYNC230 - opening is instant; reads go to a thread
        first = True
        while True:
            chunk = await asyncio.to_thread(f.read, BLOB_CHUNK)
            if not chunk and not first:
                return
            yield models_pb2.CreateBlobRequest(digest=digest if first else "", data=chunk)
            first = False


class AsyncClient(BaseClient):
    """An asyncio client. The channel opens on the first call, inside the running loop."""

    def __init__(self, host: str | None = None, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._channel: grpc.aio.Channel | None = None

    def _stubs(self) -> tuple[Any, Any, Any]:
        if self._channel is None:
            if self._creds is None:
                self._channel = grpc.aio.insecure_channel(self._target, self._options)
            else:
                self._channel = grpc.aio.secure_channel(self._target, self._creds, self._options)
            self._inference = inference_pb2_grpc.InferenceServiceStub(self._channel)
            self._models = models_pb2_grpc.ModelServiceStub(self._channel)
            self._version = models_pb2_grpc.VersionServiceStub(self._channel)
        return self._inference, self._models, self._version

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _unary(self, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        try:
            return await method(request, **self._call_args(timeout, request))
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    async def _streamed(
        self,
        method: Callable[..., Any],
        request: Any,
        convert: Callable[[Any], T],
        stream: bool,
        timeout: float | None,
    ) -> T | AsyncStream[T]:
        s: AsyncStream[T] = AsyncStream(method(request, **self._call_args(timeout, request)), convert)
        if stream:
            return s
        return await aonly(s)

    # ------------------------------------------------------------------ inference

    @overload
    async def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        system: str | None = None,
        template: str | None = None,
        context: Sequence[int] | None = None,
        stream: Literal[False] = False,
        think: bool | Literal["low", "medium", "high", "max"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        raw: bool | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,
        images: Sequence[str | bytes | Path | t.Image] | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        timeout: float | None = None,
    ) -> t.GenerateResponse: ...
    @overload
    async def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        system: str | None = None,
        template: str | None = None,
        context: Sequence[int] | None = None,
        stream: Literal[True],
        think: bool | Literal["low", "medium", "high", "max"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        raw: bool | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,
        images: Sequence[str | bytes | Path | t.Image] | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        timeout: float | None = None,
    ) -> AsyncStream[t.GenerateResponse]: ...
    async def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        system: str | None = None,
        template: str | None = None,
        context: Sequence[int] | None = None,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high", "max"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        raw: bool | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,
        images: Sequence[str | bytes | Path | t.Image] | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        timeout: float | None = None,
    ) -> t.GenerateResponse | AsyncStream[t.GenerateResponse]:
        request = c.generate_request(
            model, prompt, suffix, system=system, template=template, context=context, stream=stream,
            think_=think, logprobs=logprobs, top_logprobs=top_logprobs, raw=raw, format=format,
            images=images, options_=options, keep_alive_=keep_alive,
        )  # fmt: skip
        inference, _, _ = self._stubs()
        return await self._streamed(inference.Generate, request, c.generate_response, stream, timeout)

    @overload
    async def chat(
        self,
        model: str = "",
        messages: Iterable[Mapping[str, Any] | t.Message] | None = None,
        *,
        tools: Iterable[Mapping[str, Any] | t.Tool | Callable[..., Any]] | None = None,
        stream: Literal[False] = False,
        think: bool | Literal["low", "medium", "high", "max"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        timeout: float | None = None,
    ) -> t.ChatResponse: ...
    @overload
    async def chat(
        self,
        model: str = "",
        messages: Iterable[Mapping[str, Any] | t.Message] | None = None,
        *,
        tools: Iterable[Mapping[str, Any] | t.Tool | Callable[..., Any]] | None = None,
        stream: Literal[True],
        think: bool | Literal["low", "medium", "high", "max"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        timeout: float | None = None,
    ) -> AsyncStream[t.ChatResponse]: ...
    async def chat(
        self,
        model: str = "",
        messages: Iterable[Mapping[str, Any] | t.Message] | None = None,
        *,
        tools: Iterable[Mapping[str, Any] | t.Tool | Callable[..., Any]] | None = None,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high", "max"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        timeout: float | None = None,
    ) -> t.ChatResponse | AsyncStream[t.ChatResponse]:
        request = c.chat_request(
            model, messages, tools=tools, stream=stream, think_=think, logprobs=logprobs,
            top_logprobs=top_logprobs, format=format, options_=options, keep_alive_=keep_alive,
        )  # fmt: skip
        inference, _, _ = self._stubs()
        return await self._streamed(inference.Chat, request, c.chat_response, stream, timeout)

    async def embed(
        self,
        model: str = "",
        input: str | Sequence[str] = "",
        truncate: bool | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        dimensions: int | None = None,
        *,
        timeout: float | None = None,
    ) -> t.EmbedResponse:
        request = c.embed_request(model, input, truncate, options, keep_alive, dimensions)
        return c.embed_response(await self._unary(self._stubs()[0].Embed, request, timeout))

    async def embeddings(
        self,
        model: str = "",
        prompt: str | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        *,
        timeout: float | None = None,
    ) -> t.EmbeddingsResponse:
        request = c.embeddings_request(model, prompt, options, keep_alive)
        return c.embeddings_response(await self._unary(self._stubs()[0].Embeddings, request, timeout))

    # ------------------------------------------------------------------ models

    @overload
    async def pull(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: Literal[False] = False,
        timeout: float | None = None,
    ) -> t.ProgressResponse: ...
    @overload
    async def pull(
        self, model: str, *, insecure: bool = False, stream: Literal[True], timeout: float | None = None
    ) -> AsyncStream[t.ProgressResponse]: ...
    async def pull(
        self, model: str, *, insecure: bool = False, stream: bool = False, timeout: float | None = None
    ) -> t.ProgressResponse | AsyncStream[t.ProgressResponse]:
        request = models_pb2.PullModelRequest(model=model, insecure=insecure, stream=stream)
        return await self._streamed(self._stubs()[1].PullModel, request, c.progress_response, stream, timeout)

    @overload
    async def push(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: Literal[False] = False,
        timeout: float | None = None,
    ) -> t.ProgressResponse: ...
    @overload
    async def push(
        self, model: str, *, insecure: bool = False, stream: Literal[True], timeout: float | None = None
    ) -> AsyncStream[t.ProgressResponse]: ...
    async def push(
        self, model: str, *, insecure: bool = False, stream: bool = False, timeout: float | None = None
    ) -> t.ProgressResponse | AsyncStream[t.ProgressResponse]:
        request = models_pb2.PushModelRequest(model=model, insecure=insecure, stream=stream)
        return await self._streamed(self._stubs()[1].PushModel, request, c.progress_response, stream, timeout)

    @overload
    async def create(
        self,
        model: str,
        quantize: str | None = None,
        from_: str | None = None,
        files: Mapping[str, str] | None = None,
        adapters: Mapping[str, str] | None = None,
        template: str | None = None,
        license: str | Sequence[str] | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | t.SubscriptableModel | None = None,
        messages: Iterable[Mapping[str, Any] | t.Message] | None = None,
        *,
        stream: Literal[False] = False,
        timeout: float | None = None,
    ) -> t.ProgressResponse: ...
    @overload
    async def create(
        self,
        model: str,
        quantize: str | None = None,
        from_: str | None = None,
        files: Mapping[str, str] | None = None,
        adapters: Mapping[str, str] | None = None,
        template: str | None = None,
        license: str | Sequence[str] | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | t.SubscriptableModel | None = None,
        messages: Iterable[Mapping[str, Any] | t.Message] | None = None,
        *,
        stream: Literal[True],
        timeout: float | None = None,
    ) -> AsyncStream[t.ProgressResponse]: ...
    async def create(
        self,
        model: str,
        quantize: str | None = None,
        from_: str | None = None,
        files: Mapping[str, str] | None = None,
        adapters: Mapping[str, str] | None = None,
        template: str | None = None,
        license: str | Sequence[str] | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | t.SubscriptableModel | None = None,
        messages: Iterable[Mapping[str, Any] | t.Message] | None = None,
        *,
        stream: bool = False,
        timeout: float | None = None,
    ) -> t.ProgressResponse | AsyncStream[t.ProgressResponse]:
        request = c.create_request(
            model, quantize, from_, files, adapters, template, license, system, parameters, messages, stream
        )
        return await self._streamed(
            self._stubs()[1].CreateModel, request, c.progress_response, stream, timeout
        )

    async def create_blob(self, path: str | Path, *, timeout: float | None = None) -> str:
        digest = await asyncio.to_thread(_digest, path)
        models = self._stubs()[1]
        exists = await self._unary(models.BlobExists, models_pb2.BlobExistsRequest(digest=digest), timeout)
        if not exists.exists:
            await self._unary(models.CreateBlob, _blob_chunks(path, digest), timeout)
        return digest

    async def list(self, *, timeout: float | None = None) -> t.ListResponse:
        answer = await self._unary(self._stubs()[1].ListModels, models_pb2.ListModelsRequest(), timeout)
        return c.list_response(answer)

    async def show(self, model: str, *, timeout: float | None = None) -> t.ShowResponse:
        request = models_pb2.ShowModelRequest(model=model)
        return c.show_response(await self._unary(self._stubs()[1].ShowModel, request, timeout))

    async def ps(self, *, timeout: float | None = None) -> t.ProcessResponse:
        request = models_pb2.ListRunningModelsRequest()
        return c.process_response(await self._unary(self._stubs()[1].ListRunningModels, request, timeout))

    async def copy(self, source: str, destination: str, *, timeout: float | None = None) -> t.StatusResponse:
        request = models_pb2.CopyModelRequest(source=source, destination=destination)
        await self._unary(self._stubs()[1].CopyModel, request, timeout)
        return t.StatusResponse(status="success")

    async def delete(self, model: str, *, timeout: float | None = None) -> t.StatusResponse:
        await self._unary(self._stubs()[1].DeleteModel, models_pb2.DeleteModelRequest(model=model), timeout)
        return t.StatusResponse(status="success")

    async def version(self, *, timeout: float | None = None) -> t.VersionResponse:
        answer = await self._unary(self._stubs()[2].GetVersion, models_pb2.GetVersionRequest(), timeout)
        return t.VersionResponse(version=answer.version)
