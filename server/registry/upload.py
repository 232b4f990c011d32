"""Blob uploads (reference §6 "Push", Ollama upload.go).

For each layer: `HEAD` the blob (the registry has it: done); else `POST
/blobs/uploads/`, with `?mount=<digest>&from=<repo>` when the layer came from another
model (a 201 means the registry mounted it: done); else `PATCH` the bytes in chunks
(`Content-Range: a-b`, each to the `Location` the previous answer gave) and `PUT
<location>?digest=…` to commit. A failed attempt starts the upload again, up to the
configured retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from server.errors import Unavailable
from server.registry.client import (
    UPLOAD_PARTS,
    HTTPStatusError,
    Repository,
    part_size,
    raise_for_status,
    retry_delay,
    retryable,
)
from server.store.names import InvalidName, parse_name

log = logging.getLogger(__name__)
READ_CHUNK = 1 << 20


class BlobUpload:
    def __init__(self, repo: Repository, path: Path, digest: str, size: int, from_: str | None):
        self.repo = repo
        self.path = path
        self.digest = digest
        self.total = size
        self.from_repo = _repo_of(from_)
        self.completed = 0
        self.task: asyncio.Task | None = None  # set by whoever starts it
        self.refs = 0

    async def run(self) -> None:
        if await self.repo.blob_size(self.digest) is not None:
            self.completed = self.total
            return
        failures = 0
        while True:
            try:
                await self._upload()
                return
            except (HTTPStatusError, Unavailable) as err:
                if not retryable(err):
                    raise
                failures += 1
                delay = retry_delay(self.repo.client.options, failures, err)
                log.info("%s upload attempt %d failed: %s", self.digest[7:19], failures, err.message)
                self.completed = 0
                await asyncio.sleep(delay)

    async def _upload(self) -> None:
        url = httpx.URL(self.repo.url("blobs", "uploads", ""))
        if self.from_repo and self.from_repo != self.repo.path:
            url = url.copy_merge_params({"mount": self.digest, "from": self.from_repo})
        resp = await self.repo.send("POST", str(url), content=lambda: b"")
        await raise_for_status(resp)
        if resp.status_code == 201:  # cross-repository mount
            self.completed = self.total
            return
        location = _location(resp, str(url))
        size = part_size(self.total, UPLOAD_PARTS, self.repo.client.options.part_size)
        md5s = []
        for offset in range(0, self.total, size):
            n = min(size, self.total - offset)
            md5 = hashlib.md5(usedforsecurity=False)
            md5s.append(md5)
            resp = await self.repo.send(
                "PATCH",
                location,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(n),
                    "Content-Range": f"{offset}-{offset + n - 1}",
                },
                content=lambda offset=offset, n=n, md5=md5: self._read(offset, n, md5),
            )
            await raise_for_status(resp)
            location = _location(resp, location)
        # Ollama's etag: md5 of the parts' md5s, dash, the number of parts.
        etag = hashlib.md5(b"".join(m.digest() for m in md5s), usedforsecurity=False).hexdigest()
        commit = httpx.URL(location).copy_merge_params({"digest": self.digest, "etag": f"{etag}-{len(md5s)}"})
        resp = await self.repo.send(
            "PUT",
            str(commit),
            headers={"Content-Type": "application/octet-stream", "Content-Length": "0"},
            content=lambda: b"",
        )
        await raise_for_status(resp)
        self.completed = self.total

    async def _read(self, offset: int, n: int, md5) -> AsyncIterator[bytes]:
        """The part's bytes from the blob file, counted into progress as they go."""
        sent = 0
        self.completed = offset  # parts go in order; a re-sent part counts from its start
        fd = os.open(self.path, os.O_RDONLY)
        try:
            while sent < n:
                chunk = await asyncio.to_thread(os.pread, fd, min(READ_CHUNK, n - sent), offset + sent)
                if not chunk:
                    raise OSError(f"{self.path} is shorter than its manifest says")
                md5.update(chunk)
                sent += len(chunk)
                self.completed += len(chunk)
                yield chunk
        finally:
            os.close(fd)


def _location(resp: httpx.Response, base: str) -> str:
    location = resp.headers.get("docker-upload-location") or resp.headers.get("location")
    if not location:
        raise HTTPStatusError(resp.status_code, "the registry gave no upload location")
    return str(httpx.URL(base).join(location))


def _repo_of(from_: str | None) -> str:
    """`smollm2:135m` -> `library/smollm2`: the repository a layer can be mounted from."""
    if not from_:
        return ""
    try:
        name = parse_name(from_)
    except InvalidName:
        return ""
    return f"{name.namespace}/{name.model}"
