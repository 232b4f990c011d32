"""ModelService (the model store over gRPC) and VersionService.

Store work is blocking file I/O (hashing, GGUF parsing, quantizing), so it runs in
worker threads; the servicers only validate, translate and delegate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from server.capabilities import capabilities
from server.errors import InvalidArgument, NotFound
from server.modelfile import build, show
from server.modelfile.parser import ModelfileError, parse, to_create_fields
from server.registry import operations
from server.registry.client import RegistryClient
from server.scheduler import Scheduler
from server.store import gguf_reader
from server.store.blobs import DigestMismatch, InvalidDigest, normalize_digest
from server.store.gguf_info import GGUFInfo, NotGGUF, read_info
from server.store.models import Model, ModelStore
from server.store.names import InvalidName, parse_name
from server.version import OLLAMA_API_VERSION
from server.workers import Workers
from tokenwire.v1 import models_pb2, models_pb2_grpc, types_pb2
from tokenwire_common.structs import whole_numbers_as_ints

_LOG = logging.getLogger(__name__)


def _ts(ns: int) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(ns)
    return ts


def details_pb(model: Model, info: GGUFInfo) -> types_pb2.ModelDetails:
    cfg = model.config
    family = cfg.get("model_family") or info.architecture
    parent = next(
        (
            layer.from_
            for layer in model.manifest.layers
            if layer.media_type == "application/vnd.ollama.image.model" and layer.from_
        ),
        "",
    )
    d = types_pb2.ModelDetails(
        parent_model=parent or "",
        format=cfg.get("model_format") or "gguf",
        family=family,
        families=cfg.get("model_families") or [family],
        parameter_size=cfg.get("model_type") or "",
        quantization_level=cfg.get("file_type") or info.file_type,
    )
    if info.context_length:
        d.context_length = int(info.context_length)
    if info.embedding_length:
        d.embedding_length = int(info.embedding_length)
    return d


def _info(model: Model) -> GGUFInfo:
    try:
        return read_info(model.model_path)
    except (OSError, NotGGUF):
        return GGUFInfo("unknown", 0, "unknown", None, None, None)


def _json_value(v):
    if isinstance(v, gguf_reader.SkippedArray):
        return []
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return v


def _struct(d: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update({k: _json_value(v) for k, v in d.items()})
    return s


def _spec_from_pb(request: models_pb2.CreateModelRequest) -> build.CreateSpec:
    params = json_format.MessageToDict(request.parameters)
    spec = build.CreateSpec(
        model=request.model,
        from_=getattr(request, "from"),
        files=dict(request.files),
        adapters=dict(request.adapters),
        # "" is absent, as Ollama's CreateHandler reads it.
        template=request.template or None,
        system=request.system or None,
        license=list(request.license),
        parameters=whole_numbers_as_ints(params),
        messages=[{"role": m.role, "content": m.content} for m in request.messages],
        quantize=request.quantize,
        requires=request.requires,
        renderer=request.renderer,
        parser=request.parser,
    )
    if request.modelfile and not spec.from_ and not spec.files:
        # Legacy form (Ollama <= 0.5.4): the server parses the Modelfile.
        try:
            fields = to_create_fields(parse(request.modelfile))
        except ModelfileError as e:
            raise InvalidArgument(str(e)) from None
        spec.from_ = fields.from_
        if spec.from_.startswith("@"):  # `FROM @sha256:...` names an uploaded blob
            spec.files, spec.from_ = {"model.gguf": spec.from_[1:]}, ""
        spec.template = spec.template if spec.template is not None else fields.template
        spec.system = spec.system if spec.system is not None else fields.system
        spec.license = spec.license or fields.license
        spec.parameters = {**fields.parameters, **spec.parameters}
        spec.messages = spec.messages or fields.messages
        spec.requires = spec.requires or fields.requires
        if fields.adapters:
            raise InvalidArgument("ADAPTER paths in a legacy modelfile are not supported; upload the blob")
    return spec


async def _iterate_in_thread(gen: Iterator) -> AsyncIterator:
    sentinel = object()
    while True:
        item = await asyncio.to_thread(next, gen, sentinel)
        if item is sentinel:
            return
        yield item


class _UploadAborted(Exception):
    pass


class _ChunkPipe:
    """Hands chunks from the event loop to the writing thread, with backpressure.

    The loop side never takes a thread: it awaits an asyncio queue, and the writer
    thread takes from it through the loop. (A blocking put in a thread per chunk had
    shared the default executor with the writers themselves, so six concurrent
    uploads filled it and deadlocked the model service.)
    """

    _ABORT = object()

    def __init__(self, depth: int = 8):
        self._loop = asyncio.get_running_loop()
        self._q: asyncio.Queue = asyncio.Queue(maxsize=depth)
        self._aborted = False

    async def put(self, data: bytes | None) -> None:
        if not self._aborted:  # after an abort nobody reads: drop, never wait
            await self._q.put(data)

    def abort(self) -> None:
        self._aborted = True
        while True:
            try:
                self._q.put_nowait(self._ABORT)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._q.get_nowait()

    def chunks(self) -> Iterator[bytes]:
        """Called in the writer thread."""
        while True:
            data = asyncio.run_coroutine_threadsafe(self._q.get(), self._loop).result()
            if data is None:
                return
            if data is self._ABORT:
                raise _UploadAborted()
            yield data


class ModelService(models_pb2_grpc.ModelServiceServicer):
    def __init__(
        self,
        store: ModelStore,
        quantizer: build.Quantizer,
        scheduler: Scheduler,
        registry: RegistryClient,
        workers: Workers,
    ):
        self._workers = workers
        self._store = store
        self._quantizer = quantizer
        self._scheduler = scheduler
        self._registry = registry

    def _list(self) -> models_pb2.ListModelsResponse:
        out = models_pb2.ListModelsResponse()
        for m in self._store.list_models():
            try:
                entry = self._list_entry(m)
            except (ValueError, TypeError, OSError):
                # One odd model must never break the listing for everyone.
                _LOG.exception("listing %s failed", m.name.display_shortest())
                continue
            out.models.append(entry)
        return out

    def _list_entry(self, m: Model) -> models_pb2.ListModelsResponseModel:
        info = _info(m)
        display = m.name.display_shortest()
        return models_pb2.ListModelsResponseModel(
            name=display,
            model=display,
            modified_at=_ts(m.modified_at_ns),
            size=m.size,
            digest=m.digest,
            details=details_pb(m, info),
            capabilities=capabilities(m, info),
        )

    async def ListModels(self, request, context) -> models_pb2.ListModelsResponse:
        return await asyncio.to_thread(self._list)

    def _show(self, request: models_pb2.ShowModelRequest) -> models_pb2.ShowModelResponse:
        if not request.model:
            raise InvalidArgument("model is required")
        try:
            m = self._store.resolve(request.model)
        except NotFound:
            # Ollama's ShowHandler names the parsed model: `ollama show x` says 'x:latest'.
            raise NotFound(f"model '{parse_name(request.model).display_shortest()}' not found") from None
        info = _info(m)
        params = dict(m.params)
        if request.HasField("options"):
            params.update(
                {d.name: (list(v) if d.name == "stop" else v) for d, v in request.options.ListFields()}
            )
        system = request.system or m.system  # "" is absent (Ollama's Go client sends it)
        meta = info.metadata
        if request.verbose:
            meta = gguf_reader.read(m.model_path, arrays_up_to=None).metadata
        meta = {k: v for k, v in meta.items() if k not in ("general.name", "tokenizer.chat_template")}
        # Ollama's GGUF decoder sets it to the tensors' element count ("patch KV with
        # parameter count"), whatever the file says.
        meta["general.parameter_count"] = info.parameter_count
        resp = models_pb2.ShowModelResponse(
            license="\n".join(m.license),
            modelfile=show.modelfile_text(
                m.name.display_shortest(),
                str(m.model_path),
                template=m.template,
                system=system,
                params=params,
                license=m.license,
                messages=m.messages,
                adapters=[str(p) for p in m.adapters],
                projectors=[str(p) for p in m.projectors],
            ),
            parameters=show.parameters_text(params),
            template=m.template,
            system=system,
            renderer=m.config.get("renderer", ""),
            parser=m.config.get("parser", ""),
            details=details_pb(m, info),
            messages=[
                types_pb2.Message(role=x.get("role", ""), content=x.get("content", "")) for x in m.messages
            ],
            model_info=_struct(meta),
            capabilities=capabilities(m, info),
            modified_at=_ts(m.modified_at_ns),
            requires=m.config.get("requires", ""),
        )
        if m.projectors:  # Ollama's projector_info: the first projector's GGUF metadata
            projector = gguf_reader.read(
                m.projectors[0], arrays_up_to=None if request.verbose else 5
            ).metadata
            resp.projector_info.CopyFrom(_struct({k: v for k, v in projector.items() if k != "general.name"}))
        if request.verbose:
            resp.tensors.extend(models_pb2.Tensor(name=n, type=t, shape=s) for n, t, s in info.tensors)
        return resp

    async def ShowModel(self, request, context) -> models_pb2.ShowModelResponse:
        return await asyncio.to_thread(self._show, request)

    async def CreateModel(self, request, context) -> AsyncIterator[models_pb2.CreateModelResponse]:
        spec = _spec_from_pb(request)
        progress = self._create(spec)
        async for msg in _progress(progress, models_pb2.CreateModelResponse, request):
            yield msg

    async def _create(self, spec: build.CreateSpec) -> AsyncIterator[build.Progress]:
        # A `from` that names a model the store does not have is pulled first, with its
        # progress lines (success included) in the create stream, as Ollama's
        # parseFromModel does; like Ollama's, that pull is over HTTPS.
        try:
            self._store.lookup_name(spec.model)  # Ollama checks the name before anything
        except InvalidName:
            raise InvalidArgument("invalid model name") from None
        if spec.from_ and await asyncio.to_thread(self._missing, spec.from_):
            async for p in operations.pull(self._registry, self._store, spec.from_, insecure=False):
                yield p
        async for p in _iterate_in_thread(build.create(self._store, spec, self._quantizer)):
            yield p

    def _missing(self, text: str) -> bool:
        try:
            return self._store.find_existing(parse_name(text)) is None
        except InvalidName:
            return False  # build.create answers "invalid model name"

    def _copy(self, request: models_pb2.CopyModelRequest) -> None:
        try:
            source = parse_name(request.source)
        except InvalidName:
            raise InvalidArgument(f'source "{request.source}" is invalid') from None
        try:
            destination = self._store.lookup_name(request.destination)
        except InvalidName:
            raise InvalidArgument(f'destination "{request.destination}" is invalid') from None
        existing = self._store.find_existing(source)
        if existing is None:
            raise NotFound(f'model "{request.source}" not found')
        with build.STORE_LOCK:
            self._store.copy(existing, destination)

    async def CopyModel(self, request, context) -> models_pb2.CopyModelResponse:
        await asyncio.to_thread(self._copy, request)
        return models_pb2.CopyModelResponse()

    def _delete(self, request: models_pb2.DeleteModelRequest) -> None:
        if not request.model:
            raise InvalidArgument("model is required")
        try:
            name = parse_name(request.model)
        except InvalidName:
            raise InvalidArgument(f'name "{request.model}" is invalid') from None
        existing = self._store.find_existing(name)
        if existing is None:
            raise NotFound(f"model '{request.model}' not found")
        with build.STORE_LOCK:
            self._store.delete(existing)

    async def DeleteModel(self, request, context) -> models_pb2.DeleteModelResponse:
        await asyncio.to_thread(self._delete, request)
        return models_pb2.DeleteModelResponse()

    async def BlobExists(self, request, context) -> models_pb2.BlobExistsResponse:
        try:
            exists = self._store.blobs.exists(request.digest)
        except InvalidDigest:
            raise InvalidArgument("invalid digest format") from None
        return models_pb2.BlobExistsResponse(exists=exists)

    async def CreateBlob(self, request_iterator, context) -> models_pb2.CreateBlobResponse:
        it = request_iterator.__aiter__()
        try:
            first = await it.__anext__()
        except StopAsyncIteration:
            raise InvalidArgument("invalid digest format") from None
        try:
            digest = normalize_digest(first.digest)
        except InvalidDigest:
            raise InvalidArgument("invalid digest format") from None
        if self._store.blobs.exists(digest):
            return models_pb2.CreateBlobResponse(created=False)
        # Hash and write in a thread while chunks arrive: never the whole blob in memory.
        pipe = _ChunkPipe()
        write = self._store.blobs.write_chunks
        writer = asyncio.ensure_future(self._workers.blob(write, digest, pipe.chunks()))
        # A writer that stops early (disk full, a digest mismatch) must not leave puts
        # waiting on a queue nobody reads; its error surfaces at `await writer`.
        writer.add_done_callback(lambda _: pipe.abort())
        try:
            await pipe.put(first.data)
            async for msg in it:
                await pipe.put(msg.data)
            await pipe.put(None)
            await writer
        except DigestMismatch as e:
            raise InvalidArgument(str(e)) from None
        except BaseException:
            pipe.abort()  # the writer's iterator raises, so it deletes its temporary file
            writer.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved: no warning
            raise
        return models_pb2.CreateBlobResponse(created=True)

    async def ListRunningModels(self, request, context) -> models_pb2.ListRunningModelsResponse:
        out = models_pb2.ListRunningModelsResponse()
        for r in self._scheduler.running():
            m: Model = r.model
            display = m.name.display_shortest()
            out.models.append(
                models_pb2.ListRunningModelsResponseModel(
                    name=display,
                    model=display,
                    size=r.engine.size_bytes,
                    size_vram=0,
                    digest=m.digest,
                    details=details_pb(m, _info(m)),
                    expires_at=_ts(r.expires_at_ns),
                    context_length=r.engine.num_ctx,
                )
            )
        return out

    async def PullModel(self, request, context) -> AsyncIterator[models_pb2.PullModelResponse]:
        progress = operations.pull(self._registry, self._store, request.model, request.insecure)
        async for msg in _progress(progress, models_pb2.PullModelResponse, request):
            yield msg

    async def PushModel(self, request, context) -> AsyncIterator[models_pb2.PushModelResponse]:
        progress = operations.push(self._registry, self._store, request.model, request.insecure)
        async for msg in _progress(progress, models_pb2.PushModelResponse, request):
            yield msg


async def _progress(progress: AsyncIterator[build.Progress], message, request) -> AsyncIterator:
    """Progress lines as messages; with stream:false only the last (normally success)."""
    stream = not request.HasField("stream") or request.stream
    last = None
    async for p in progress:
        last = message(status=p.status, digest=p.digest, total=p.total, completed=p.completed)
        if stream:
            yield last
    if not stream and last is not None:
        yield last


class VersionService(models_pb2_grpc.VersionServiceServicer):
    async def GetVersion(self, request, context) -> models_pb2.GetVersionResponse:
        return models_pb2.GetVersionResponse(version=OLLAMA_API_VERSION)
