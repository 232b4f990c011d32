"""Bounded worker pools, so nothing heavy runs on the event loop and no kind of work
can starve another.

- `prompt`: tokenizing, rendering templates, cutting chat history, compiling a
  `format` grammar. CPU-bound; a 63 MB prompt tokenized on the event loop once
  stalled every RPC, health checks included, for 29 s.
- `blobs`: blob uploads, one thread each for the length of an upload. They had
  shared asyncio's default executor (cores + 4 threads) with the store's other work,
  and six concurrent uploads took every thread: `ListModels` then waited for good.
- small prompts are the exception: a hop to a worker and back is two thread
  wake-ups, and going without both hops (render and tokenize) took 0.7 ms off the
  time to first token at one stream (17.2 against 17.9 ms, 40 requests each,
  2026-12-02), while tokenizing 512 characters takes about 0.35 ms here (2.7 ms per
  4 KiB on this 2-core VM). Callers pass `chars`; at most INLINE_CHARS run inline.
- everything else (store reads, create, copy, delete) stays on the default executor,
  which uploads and prompts no longer touch.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# Uploads beyond this wait for a thread; their chunks back up to the client through
# gRPC flow control, and nothing else waits behind them.
BLOB_WRITERS = 4
INLINE_CHARS = 512


class Workers:
    def __init__(self, prompt_threads: int = 0, blob_threads: int = BLOB_WRITERS):
        self._prompt = ThreadPoolExecutor(prompt_threads or os.cpu_count() or 1, "prompt")
        self._blobs = ThreadPoolExecutor(blob_threads, "blob")

    async def prompt(self, fn: Callable[..., T], *args: Any, chars: int | None = None) -> T:
        """fn(*args) on a prompt worker; inline when the caller says its input is
        `chars` long, at most INLINE_CHARS (None: size unknown, always a worker)."""
        if chars is not None and chars <= INLINE_CHARS:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._prompt, functools.partial(fn, *args))

    async def blob(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._blobs, functools.partial(fn, *args))

    def close(self) -> None:
        self._prompt.shutdown(wait=False, cancel_futures=True)
        self._blobs.shutdown(wait=False, cancel_futures=True)
