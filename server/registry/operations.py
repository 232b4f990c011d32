"""PullModel and PushModel as Ollama's PullModel/PushModel (server/images.go), yielding
its exact progress lines (reference §6):

pull: `pulling manifest`, `pulling <12 hex>` {digest,total,completed} per layer,
`verifying sha256 digest`, `writing manifest`, [`removing unused layers`], `success`.
push: `retrieving manifest`, `pushing <12 hex>` per layer, `pushing manifest`, `success`.

The manifest is written last, only after every layer is verified and in place, so a
failed pull never leaves a model that points at missing or partial blobs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from server.errors import InvalidArgument, NotFound
from server.modelfile.build import STORE_LOCK, Progress
from server.registry.client import MAX_BLOB_BYTES, MAX_LAYERS, RegistryClient, Repository, shared
from server.registry.download import PROGRESS_EVERY_S, joined
from server.registry.upload import BlobUpload
from server.store import manifest as mf
from server.store.blobs import InvalidDigest, normalize_digest
from server.store.models import ModelStore
from server.store.names import InvalidName, Name


def _name(store: ModelStore, text: str) -> Name:
    try:
        return store.lookup_name(text)
    except InvalidName:
        raise InvalidArgument("invalid model name") from None


def _parse_pulled(raw: bytes) -> mf.Manifest:
    invalid = "pull model manifest: the registry sent an invalid manifest"
    try:
        manifest = mf.parse_manifest(raw)
        sizes: dict[str, int] = {}
        for layer in [manifest.config, *manifest.layers]:  # an empty config digest is invalid too
            layer.digest = normalize_digest(layer.digest)
            if isinstance(layer.size, bool) or not isinstance(layer.size, int):
                raise ValueError(layer.size)
            if not 0 <= layer.size <= MAX_BLOB_BYTES:
                raise InvalidArgument(f"{invalid}: layer {layer.digest} claims {layer.size} bytes")
            # One digest is one content: two sizes for it do not add up.
            if sizes.setdefault(layer.digest, layer.size) != layer.size:
                raise InvalidArgument(f"{invalid}: layer {layer.digest} has two sizes")
        if len(manifest.layers) > MAX_LAYERS:
            raise InvalidArgument(f"{invalid}: more than {MAX_LAYERS} layers")
        if sum(sizes.values()) > MAX_BLOB_BYTES:
            raise InvalidArgument(f"{invalid}: its layers add up to more than {MAX_BLOB_BYTES} bytes")
    except (ValueError, KeyError, TypeError, InvalidDigest):
        raise InvalidArgument(invalid) from None
    return manifest


def _old_digests(store: ModelStore, name: Name) -> set[str]:
    try:
        old = mf.parse_manifest(store.manifest_path(name).read_bytes())
    except (OSError, ValueError, KeyError):
        return set()
    return {layer.digest for layer in old.blobs}


def _status(verb: str, digest: str) -> str:
    return f"{verb} {digest[7:19]}"


async def pull(
    client: RegistryClient, store: ModelStore, text: str, insecure: bool
) -> AsyncIterator[Progress]:
    name = _name(store, text)
    old = await asyncio.to_thread(_old_digests, store, name)
    if name.scheme == "http" and not insecure:
        raise InvalidArgument("insecure protocol http")
    yield Progress("pulling manifest")
    repo = client.repository(name, insecure)
    manifest = _parse_pulled(await repo.get_manifest())
    layers = manifest.blobs
    digests = [layer.digest for layer in layers]

    # Blobs this pull places stay only if its manifest is written: on failure they are
    # removed again (unless another pull in flight needs them), so a failed pull
    # leaves the store as it found it; only partial files stay, for a resume.
    new = {layer.digest for layer in layers if not store.blobs.exists(layer.digest)}
    with client.pinned(new):
        try:
            async with contextlib.AsyncExitStack() as stack:
                downloads = []
                for layer in layers:
                    status = _status("pulling", layer.digest)
                    if layer.digest not in new:  # cache hit: no download, no verification
                        size = store.blobs.size(layer.digest)
                        yield Progress(status, layer.digest, size, size)
                        continue
                    download = await stack.enter_async_context(
                        joined(client, store.blobs, repo, layer.digest, layer.size)
                    )
                    downloads.append(download)
                    async for completed, total in download.progress():
                        yield Progress(status, layer.digest, total, completed)

                yield Progress("verifying sha256 digest")
                for download in downloads:
                    await download.wait()
                yield Progress("writing manifest")
                await asyncio.to_thread(_write_manifest, store, name, manifest, old - set(digests))
        except BaseException:
            # In a worker thread: STORE_LOCK may be held by a create between its steps.
            cleanup = asyncio.get_running_loop().run_in_executor(
                None, _remove_unused, store, new - client.pinned_by_others(new)
            )
            with contextlib.suppress(BaseException):
                await asyncio.shield(cleanup)
            raise

    if old - set(digests):
        yield Progress("removing unused layers")
    yield Progress("success")


def _remove_unused(store: ModelStore, digests: set[str]) -> None:
    with STORE_LOCK:
        store.prune_blobs(digests)


def _write_manifest(store: ModelStore, name: Name, manifest: mf.Manifest, unused: set[str]) -> None:
    with STORE_LOCK:
        store.write_raw_manifest(name, manifest)
        if unused:
            store.prune_blobs(unused)


async def push(
    client: RegistryClient, store: ModelStore, text: str, insecure: bool
) -> AsyncIterator[Progress]:
    if not text:
        raise InvalidArgument("model is required")
    name = _name(store, text)
    yield Progress("retrieving manifest")
    if name.scheme == "http" and not insecure:
        raise InvalidArgument("insecure protocol http")
    existing = store.find_existing(name)
    if existing is None:
        raise NotFound(f"model '{text}' not found")
    raw = await asyncio.to_thread(store.manifest_path(existing).read_bytes)
    manifest = mf.parse_manifest(raw)
    repo = client.repository(name, insecure)
    for layer in manifest.blobs:
        status = _status("pushing", layer.digest)
        async with _upload(client, store, repo, layer) as upload:
            while not upload.task.done():
                yield Progress(status, layer.digest, upload.total, upload.completed)
                await asyncio.wait({upload.task}, timeout=PROGRESS_EVERY_S)
            await asyncio.shield(upload.task)  # raises the upload's error
        yield Progress(status, layer.digest, upload.total, upload.total)
    yield Progress("pushing manifest")
    await repo.put_manifest(raw)
    yield Progress("success")


def _upload(client: RegistryClient, store: ModelStore, repo: Repository, layer: mf.Layer):
    """Start the layer's upload to this repository or join the one in flight (two
    pushes of one model send each blob once); the last to leave cancels it."""

    def start() -> BlobUpload:
        upload = BlobUpload(repo, store.blobs.path(layer.digest), layer.digest, layer.size, layer.from_)
        upload.task = asyncio.ensure_future(upload.run())
        return upload

    return shared(client.uploads, (repo.base, repo.path, layer.digest), start)
