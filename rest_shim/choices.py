"""OpenAI's `n`: n independent generations of one request, answered as n choices.

Ollama ignores `n` and answers one choice; clients that ask for several then silently
get one. Each choice here is its own Chat RPC (with seed + i when a seed is given, so
the samples differ as OpenAI's do); they run side by side in the engine's batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

MAX_CHOICES = 8  # each choice takes a slot: more would only queue


def copies(pb: Any, n: int) -> list[Any]:
    out = []
    for i in range(n):
        one = type(pb)()
        one.CopyFrom(pb)
        if pb.options.HasField("seed") and pb.options.seed >= 0:
            one.options.seed = pb.options.seed + i
        out.append(one)
    return out


class Merged:
    """n server-streaming calls read as one stream of (choice index, message); cancel()
    cancels them all. Quacks like the call that rest_shim.streaming expects."""

    def __init__(self, calls: list[Any]):
        self.calls = calls

    def cancel(self) -> None:
        for call in self.calls:
            call.cancel()

    async def __aiter__(self) -> AsyncIterator[tuple[int, Any]]:
        queue: asyncio.Queue[tuple[int, Any, BaseException | None]] = asyncio.Queue()
        ended = StopAsyncIteration()

        async def pump(i: int, call: Any) -> None:
            try:
                async for msg in call:
                    await queue.put((i, msg, None))
            except grpc.aio.AioRpcError as err:
                await queue.put((i, None, err))
            await queue.put((i, None, ended))

        tasks = [asyncio.create_task(pump(i, c)) for i, c in enumerate(self.calls)]
        try:
            running = len(tasks)
            while running:
                i, msg, err = await queue.get()
                if err is ended:
                    running -= 1
                elif err is not None:
                    raise err
                else:
                    yield i, msg
        finally:
            for t in tasks:
                t.cancel()
