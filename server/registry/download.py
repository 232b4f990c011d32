"""Blob downloads: parallel ranged parts, resumable, verified before they are visible.

Files, as Ollama lays them out (reference §5, download.go):

- `blobs/sha256-<hex>-partial`: the bytes so far, at their final offsets;
- `blobs/sha256-<hex>-partial-<N>`: part N's state, `{"N","Offset","Size","Completed"}`,
  saved at least every second while it downloads and whenever it stops, so a pull
  cut off by a dead registry, a broken connection, a cancelled request or a killed
  server resumes from the bytes it has.

Unlike Ollama, which renames first and verifies after, the sha256 is checked on the
partial file and only a matching file is renamed to `blobs/sha256-<hex>`; a mismatch
deletes the partial files. So a blob in the store is always whole and correct.

One `BlobDownload` per digest runs as its own task, independent of the requests that
wait for it: a second pull of the same blob joins it, and it is cancelled (its state
kept for a resume) only when the last waiter leaves.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.errors import DataLoss
from server.registry.client import (
    DOWNLOAD_PARTS,
    HTTPStatusError,
    RegistryClient,
    RegistryUnreachable,
    Repository,
    part_size,
    raise_for_status,
    retry_delay,
    retryable,
    shared,
)
from server.store.blobs import BlobStore, fsync_dir

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.06  # Ollama reports each layer's progress every 60 ms
SAVE_EVERY_S = 1.0
READ_CHUNK = 1 << 20
MAX_PARTS = 4096


@dataclass
class Part:
    n: int
    offset: int
    size: int
    completed: int = 0

    def to_json(self) -> bytes:
        return json.dumps(
            {"N": self.n, "Offset": self.offset, "Size": self.size, "Completed": self.completed}
        ).encode()


class BlobDownload:
    def __init__(self, client: RegistryClient, blobs: BlobStore, digest: str, size: int):
        self.client = client
        self.digest = digest
        self.total = size
        self.path = blobs.path(digest)
        self.partial = self.path.with_name(self.path.name + "-partial")
        self.parts: list[Part] = []
        self.completed = 0
        self.prepared = asyncio.Event()  # parts planned or loaded: `completed` is true
        self.fetched = asyncio.Event()  # every byte is on disk (verification may follow)
        self.task: asyncio.Task | None = None
        self.refs = 0

    # ------------------------------------------------------------ part state files

    def _state_path(self, part: Part) -> Path:
        return self.partial.with_name(f"{self.partial.name}-{part.n}")

    def _save(self, part: Part) -> None:
        path = self._state_path(part)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(part.to_json())
        os.replace(tmp, path)

    def _load_parts(self) -> list[Part] | None:
        """The saved parts if they describe this blob completely, else None."""
        parts = []
        for path in self.partial.parent.glob(self.partial.name + "-*"):
            if not path.name.removeprefix(self.partial.name + "-").isdigit():
                continue
            try:
                d = json.loads(path.read_bytes())
                parts.append(Part(int(d["N"]), int(d["Offset"]), int(d["Size"]), int(d["Completed"])))
            except (OSError, ValueError, KeyError, TypeError):
                return None
        parts.sort(key=lambda p: p.offset)
        offset = 0
        for i, p in enumerate(parts):
            if p.n != i or p.offset != offset or not 0 <= p.completed <= p.size:
                return None
            offset += p.size
        if not parts or offset != self.total or not self.partial.is_file():
            return None
        return parts

    def _discard(self) -> None:
        self.partial.unlink(missing_ok=True)
        for path in self.partial.parent.glob(self.partial.name + "-*"):
            path.unlink(missing_ok=True)

    def _prepare(self) -> None:
        parts = self._load_parts()
        if parts is None:
            self._discard()
            size = part_size(self.total, DOWNLOAD_PARTS, self.client.options.part_size)
            # However small the configured part, a plan never has more than MAX_PARTS.
            size = max(size, -(-self.total // MAX_PARTS))
            parts = [
                Part(n, offset, min(size, self.total - offset))
                for n, offset in enumerate(range(0, self.total, size))
            ]
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            with open(self.partial, "wb") as f:
                f.truncate(self.total)
            for part in parts:
                self._save(part)
        else:
            log.info(
                "resuming %s from %d of %d bytes",
                self.digest[7:19],
                sum(p.completed for p in parts),
                self.total,
            )
        self.parts = parts
        self.completed = sum(p.completed for p in parts)

    # ------------------------------------------------------------ the download task

    async def run(self, repo: Repository) -> None:
        await asyncio.to_thread(self._prepare)
        self.prepared.set()
        fd = os.open(self.partial, os.O_RDWR)
        try:
            todo = [p for p in self.parts if p.completed < p.size]
            if todo:
                limit = asyncio.Semaphore(DOWNLOAD_PARTS)
                url = repo.url("blobs", self.digest)
                async with asyncio.TaskGroup() as group:
                    for part in todo:
                        group.create_task(self._part(repo, url, part, fd, limit))
        except BaseExceptionGroup as group:
            raise group.exceptions[0] from None
        finally:
            os.close(fd)
        self.fetched.set()
        await asyncio.to_thread(self._verify_and_place)

    async def _part(self, repo: Repository, url: str, part: Part, fd: int, limit: asyncio.Semaphore) -> None:
        failures = 0
        async with limit:
            while part.completed < part.size:
                try:
                    await self._fetch(repo, url, part, fd)
                except (RegistryUnreachable, HTTPStatusError) as err:
                    if not retryable(err):
                        raise
                    if getattr(err, "stalled", False):
                        log.info("%s part %d stalled; retrying", self.digest[7:19], part.n)
                        continue  # a stall is retried without counting, as in Ollama
                    failures += 1
                    delay = retry_delay(self.client.options, failures, err)
                    log.info(
                        "%s part %d attempt %d failed: %s; retrying in %.1fs",
                        self.digest[7:19],
                        part.n,
                        failures,
                        err.message,
                        delay,
                    )
                    await asyncio.sleep(delay)
                finally:
                    # Written here, not in a thread: awaiting a thread could be cut short
                    # by cancellation (a sibling part failed), leaving the write running
                    # after the download, and the pull, had already ended.
                    self._save(part)

    async def _fetch(self, repo: Repository, url: str, part: Part, fd: int) -> None:
        start, stop = part.offset + part.completed, part.offset + part.size - 1
        resp = await repo.send("GET", url, headers={"Range": f"bytes={start}-{stop}"}, stream=True)
        try:
            if resp.status_code not in (200, 206):
                await raise_for_status(resp)
                raise HTTPStatusError(
                    resp.status_code, f"unexpected status for a blob range: {resp.status_code}"
                )
            skip = start if resp.status_code == 200 else 0  # the registry ignored Range
            saved = time.monotonic()
            try:
                async for chunk in resp.aiter_bytes():
                    if skip:
                        cut = min(skip, len(chunk))
                        chunk, skip = chunk[cut:], skip - cut
                    chunk = chunk[: part.size - part.completed]
                    if not chunk:
                        if part.completed >= part.size:
                            break
                        continue
                    os.pwrite(fd, chunk, part.offset + part.completed)
                    part.completed += len(chunk)
                    self.completed += len(chunk)
                    if time.monotonic() - saved >= SAVE_EVERY_S:
                        self._save(part)
                        saved = time.monotonic()
            except httpx.TransportError as err:  # the connection broke mid-body
                raise RegistryUnreachable("GET", url, err) from None
            if part.completed < part.size:
                raise RegistryUnreachable("GET", url, EOFError("unexpected EOF"))
        finally:
            await resp.aclose()

    def _verify_and_place(self) -> None:
        h = hashlib.sha256()
        with open(self.partial, "rb") as f:
            while chunk := f.read(READ_CHUNK):
                h.update(chunk)
        got = f"sha256:{h.hexdigest()}"
        if got != self.digest:
            self._discard()
            raise DataLoss(f"digest mismatch, file must be downloaded again: want {self.digest}, got {got}")
        with open(self.partial, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(self.partial, self.path)
        self._discard()  # the part state files are all that is left
        fsync_dir(self.path.parent)

    # ------------------------------------------------------------ waiting for it

    async def progress(self) -> AsyncIterator[tuple[int, int]]:
        """(completed, total) every 60 ms until every byte is on disk; raises the
        download's error. Verification is awaited separately by `wait()`."""
        assert self.task is not None
        prepared = asyncio.ensure_future(self.prepared.wait())
        fetched = asyncio.ensure_future(self.fetched.wait())
        try:
            await asyncio.wait({prepared, self.task}, return_when=asyncio.FIRST_COMPLETED)
            while not fetched.done() and not self.task.done():
                yield self.completed, self.total
                await asyncio.wait(
                    {fetched, self.task}, timeout=PROGRESS_EVERY_S, return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            prepared.cancel()
            fetched.cancel()
        if not self.fetched.is_set():
            await asyncio.shield(self.task)  # raises the download's error
        yield self.completed, self.total

    async def wait(self) -> None:
        assert self.task is not None
        await asyncio.shield(self.task)


def joined(client: RegistryClient, blobs: BlobStore, repo: Repository, digest: str, size: int):
    """Start the blob's download or join the one in flight; leaving as the last waiter
    cancels it (its partial state stays for a resume)."""

    def start() -> BlobDownload:
        download = BlobDownload(client, blobs, digest, size)
        download.task = asyncio.ensure_future(download.run(repo))
        return download

    return shared(client.downloads, str(blobs.path(digest)), start)
