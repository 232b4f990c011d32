"""One sequence's failure in the engine ends that sequence alone.

The services refuse bad context tokens before they reach a batch; this drives the
engine itself (in-process, the real model) with a token outside the vocabulary, as a
bug or a future input path might, next to two good requests in the same batches.
llama.cpp validates a batch as a whole, so before the engine decoded each sequence
alone after a failed step, every user's stream ended with `llama_decode failed`.
"""

from __future__ import annotations

import asyncio

from server.bootstrap import SMOLLM2, cached_path
from server.engine.types import (
    CompletionRequest,
    DoneEvent,
    ErrorEvent,
    LoadOptions,
    SamplingParams,
    Stream,
    TokenEvent,
)
from server.settings import Settings


async def _collect(stream: Stream) -> list:
    return [event async for event in stream]


def test_a_bad_sequence_fails_alone_and_the_batch_goes_on():
    from server.engine.llama import LlamaEngine

    path = cached_path(Settings.from_env().cache_dir, SMOLLM2)
    engine = LlamaEngine(path, LoadOptions(num_ctx=512, num_batch=512, num_parallel=4, num_thread=0))

    async def run() -> list[list]:
        def request(prefix: list[int]) -> CompletionRequest:
            greedy = SamplingParams(temperature=0, num_predict=24)
            return CompletionRequest(prompt="Count to ten:", sampling=greedy, prefix_tokens=prefix)

        streams = [Stream() for _ in range(3)]
        engine.submit(request([]), streams[0])
        engine.submit(request([-1]), streams[1])  # outside the vocabulary
        engine.submit(request([]), streams[2])
        return await asyncio.gather(*(_collect(s) for s in streams))

    try:
        good, bad, other = asyncio.run(run())
        assert isinstance(bad[-1], ErrorEvent) and "llama_decode failed" in str(bad[-1].error)
        assert not any(isinstance(e, DoneEvent) for e in bad)
        # The engine still serves afterwards; the two good streams ran to their end and
        # say exactly what the same greedy request says alone.
        (alone,) = asyncio.run(_again(engine))
        for events in (good, other, alone):
            assert isinstance(events[-1], DoneEvent) and events[-1].eval_count > 0, events[-1]
        assert _text(good) == _text(other) == _text(alone) != ""
    finally:
        engine.close()


def _text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TokenEvent))


async def _again(engine) -> list[list]:
    stream = Stream()
    engine.submit(
        CompletionRequest(prompt="Count to ten:", sampling=SamplingParams(temperature=0, num_predict=24)),
        stream,
    )
    return [await _collect(stream)]
