"""Client: ollama-python's Client over gRPC. Same methods, arguments and return types;
only the import and the host change. AsyncClient (_async_client.py) mirrors it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import grpc

from tokenwire.v1 import inference_pb2_grpc, models_pb2, models_pb2_grpc
from tokenwire_client import _channel
from tokenwire_client import _convert as c
from tokenwire_client import _types as t
from tokenwire_client._errors import from_rpc_error
from tokenwire_client._stream import Stream, only
from tokenwire_common import wire

T = TypeVar("T")
BLOB_CHUNK = 1 << 20  # under gRPC's 4 MiB default message size, as the proto asks


class BaseClient:
    """What both clients hold: the target, credentials, headers, default timeout."""

    def __init__(
        self,
        host: str | None = None,
        *,
        timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        tls: bool = False,
        root_certificates: bytes | None = None,
        private_key: bytes | None = None,
        certificate_chain: bytes | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        call_credentials: grpc.CallCredentials | None = None,
        channel_options: Sequence[tuple[str, Any]] | None = None,
    ) -> None:
        """`host`: "host:port" or an http(s):// URL; default TOKENWIRE_GRPC_ADDR, else
        127.0.0.1:50051. `timeout`: seconds per call (a gRPC deadline), None for none.
        `headers` and `auth` go out as metadata on every call. TLS: `tls=True` (system
        roots), `root_certificates`, a client `private_key` + `certificate_chain` for
        mutual TLS, or ready `credentials`; `call_credentials` need TLS."""
        self._target, https = _channel.target(host)
        self._creds = _channel.credentials(
            tls or https, root_certificates, private_key, certificate_chain, credentials, call_credentials
        )
        self._options = _channel.options(channel_options)
        self._metadata = _channel.metadata(headers, auth)
        self._timeout = timeout

    def _call_args(self, timeout: float | None, request: object = None) -> dict[str, Any]:
        """The call's deadline and metadata, with the model header a proxy routes by."""
        metadata = self._metadata + wire.model_header(wire.request_model(request))
        return {"timeout": self._timeout if timeout is None else timeout, "metadata": metadata}


def _digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(BLOB_CHUNK):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}"


def _blob_chunks(
    path: str | Path, digest: str, sent: Callable[[int], None] | None = None
) -> Iterator[models_pb2.CreateBlobRequest]:
    """The file in BLOB_CHUNK messages, the first naming the digest; `sent` hears the
    bytes sent so far before each message goes."""
    total = 0
    with open(path, "rb") as f:
        data, name = f.read(BLOB_CHUNK), digest
        while True:
            total += len(data)
            if sent is not None:
                sent(total)
            yield models_pb2.CreateBlobRequest(digest=name, data=data)
            data, name = f.read(BLOB_CHUNK), ""
            if not data:
                return


class Client(BaseClient):
    """A blocking client. Use as a context manager, or call close()."""

    def __init__(self, host: str | None = None, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        if self._creds is None:
            self._channel = grpc.insecure_channel(self._target, self._options)
        else:
            self._channel = grpc.secure_channel(self._target, self._creds, self._options)
        self._inference = inference_pb2_grpc.InferenceServiceStub(self._channel)
        self._models = models_pb2_grpc.ModelServiceStub(self._channel)
        self._version = models_pb2_grpc.VersionServiceStub(self._channel)

    @property
    def channel(self) -> grpc.Channel:
        """The client's one gRPC channel, for stubs of calls ollama-python's shape has no
        method for (the `tokenwire` CLI's Modelfile create, StatusService). Calls on it
        carry the client's credentials, model header and default deadline."""
        return grpc.intercept_channel(self._channel, _channel.CallDefaults(self._metadata, self._timeout))

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unary(self, method: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        try:
            return method(request, **self._call_args(timeout, request))
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def _streamed(
        self,
        method: Callable[..., Any],
        request: Any,
        convert: Callable[[Any], T],
        stream: bool,
        timeout: float | None,
    ) -> T | Stream[T]:
        s = Stream(method(request, **self._call_args(timeout, request)), convert)
        return s if stream else only(s)

    # ------------------------------------------------------------------ inference

    @overload
    def generate(
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
    def generate(
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
    ) -> Stream[t.GenerateResponse]: ...
    def generate(
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
    ) -> t.GenerateResponse | Stream[t.GenerateResponse]:
        """A completion. stream=True gives an iterator of chunks; the last has done=True."""
        request = c.generate_request(
            model, prompt, suffix, system=system, template=template, context=context, stream=stream,
            think_=think, logprobs=logprobs, top_logprobs=top_logprobs, raw=raw, format=format,
            images=images, options_=options, keep_alive_=keep_alive,
        )  # fmt: skip
        return self._streamed(self._inference.Generate, request, c.generate_response, stream, timeout)

    @overload
    def chat(
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
    def chat(
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
    ) -> Stream[t.ChatResponse]: ...
    def chat(
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
    ) -> t.ChatResponse | Stream[t.ChatResponse]:
        """A chat turn. `tools` may be dicts, Tool objects or Python functions."""
        request = c.chat_request(
            model, messages, tools=tools, stream=stream, think_=think, logprobs=logprobs,
            top_logprobs=top_logprobs, format=format, options_=options, keep_alive_=keep_alive,
        )  # fmt: skip
        return self._streamed(self._inference.Chat, request, c.chat_response, stream, timeout)

    def embed(
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
        return c.embed_response(self._unary(self._inference.Embed, request, timeout))

    def embeddings(
        self,
        model: str = "",
        prompt: str | None = None,
        options: Mapping[str, Any] | t.SubscriptableModel | None = None,
        keep_alive: float | str | None = None,
        *,
        timeout: float | None = None,
    ) -> t.EmbeddingsResponse:
        """Deprecated in favour of embed, as in Ollama: one vector, not normalised."""
        request = c.embeddings_request(model, prompt, options, keep_alive)
        return c.embeddings_response(self._unary(self._inference.Embeddings, request, timeout))

    # ------------------------------------------------------------------ models

    @overload
    def pull(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: Literal[False] = False,
        timeout: float | None = None,
    ) -> t.ProgressResponse: ...
    @overload
    def pull(
        self, model: str, *, insecure: bool = False, stream: Literal[True], timeout: float | None = None
    ) -> Stream[t.ProgressResponse]: ...
    def pull(
        self, model: str, *, insecure: bool = False, stream: bool = False, timeout: float | None = None
    ) -> t.ProgressResponse | Stream[t.ProgressResponse]:
        request = models_pb2.PullModelRequest(model=model, insecure=insecure, stream=stream)
        return self._streamed(self._models.PullModel, request, c.progress_response, stream, timeout)

    @overload
    def push(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: Literal[False] = False,
        timeout: float | None = None,
    ) -> t.ProgressResponse: ...
    @overload
    def push(
        self, model: str, *, insecure: bool = False, stream: Literal[True], timeout: float | None = None
    ) -> Stream[t.ProgressResponse]: ...
    def push(
        self, model: str, *, insecure: bool = False, stream: bool = False, timeout: float | None = None
    ) -> t.ProgressResponse | Stream[t.ProgressResponse]:
        request = models_pb2.PushModelRequest(model=model, insecure=insecure, stream=stream)
        return self._streamed(self._models.PushModel, request, c.progress_response, stream, timeout)

    @overload
    def create(
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
    def create(
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
    ) -> Stream[t.ProgressResponse]: ...
    def create(
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
    ) -> t.ProgressResponse | Stream[t.ProgressResponse]:
        request = c.create_request(
            model, quantize, from_, files, adapters, template, license, system, parameters, messages, stream
        )
        return self._streamed(self._models.CreateModel, request, c.progress_response, stream, timeout)

    def create_blob(
        self,
        path: str | Path,
        *,
        timeout: float | None = None,
        progress: Callable[[str, int], None] | None = None,
    ) -> str:
        """Upload a file as a blob (skipped when the server has it); returns its digest.
        `progress(digest, bytes_sent)` is called as the upload goes (the CLI's bar)."""
        digest = _digest(path)
        exists = self._unary(self._models.BlobExists, models_pb2.BlobExistsRequest(digest=digest), timeout)
        if not exists.exists:
            sent = None if progress is None else (lambda n: progress(digest, n))
            self._unary(self._models.CreateBlob, _blob_chunks(path, digest, sent), timeout)
        return digest

    def list(self, *, timeout: float | None = None) -> t.ListResponse:
        return c.list_response(self._unary(self._models.ListModels, models_pb2.ListModelsRequest(), timeout))

    def show(self, model: str, *, timeout: float | None = None) -> t.ShowResponse:
        request = models_pb2.ShowModelRequest(model=model)
        return c.show_response(self._unary(self._models.ShowModel, request, timeout))

    def ps(self, *, timeout: float | None = None) -> t.ProcessResponse:
        request = models_pb2.ListRunningModelsRequest()
        return c.process_response(self._unary(self._models.ListRunningModels, request, timeout))

    def copy(self, source: str, destination: str, *, timeout: float | None = None) -> t.StatusResponse:
        request = models_pb2.CopyModelRequest(source=source, destination=destination)
        self._unary(self._models.CopyModel, request, timeout)
        return t.StatusResponse(status="success")

    def delete(self, model: str, *, timeout: float | None = None) -> t.StatusResponse:
        self._unary(self._models.DeleteModel, models_pb2.DeleteModelRequest(model=model), timeout)
        return t.StatusResponse(status="success")

    def version(self, *, timeout: float | None = None) -> t.VersionResponse:
        answer = self._unary(self._version.GetVersion, models_pb2.GetVersionRequest(), timeout)
        return t.VersionResponse(version=answer.version)
