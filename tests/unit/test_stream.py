"""Stream and Wakes: how the engine thread hands events to the event loop.

A step's tokens for several sequences wake the loop once (Wakes), not once per sequence;
a post without Wakes (an error, an unload) wakes at once; events keep their order."""

from __future__ import annotations

import asyncio
import threading

from server.engine.types import DoneEvent, ErrorEvent, Stream, TokenEvent, Wakes


def _done() -> DoneEvent:
    return DoneEvent(done_reason="stop", prompt_eval_count=1, prompt_cached_count=0, stop_sequence="",
                     prompt_eval_duration_ns=0, eval_count=2, eval_duration_ns=0, context=[], max_batch=1,
                     queued_ns=0)  # fmt: skip


async def _collect(stream: Stream) -> list[str]:
    out = []
    async for event in stream:
        out.append(event.text if isinstance(event, TokenEvent) else type(event).__name__)
    return out


def _counting(loop: asyncio.AbstractEventLoop) -> list[int]:
    """Count the loop's call_soon_threadsafe calls (each a write to its self-pipe)."""
    calls = [0]
    real = loop.call_soon_threadsafe

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
    return calls


def _in_thread(fn, *args) -> None:
    """Run fn in another thread, as the engine's, and wait for it with the loop held
    (asyncio.to_thread would add a call_soon_threadsafe of its own)."""
    t = threading.Thread(target=fn, args=args)
    t.start()
    t.join()


def test_a_steps_tokens_wake_the_loop_once():
    async def main():
        loop = asyncio.get_running_loop()
        calls = _counting(loop)
        streams = [Stream() for _ in range(8)]
        readers = [asyncio.ensure_future(_collect(s)) for s in streams]
        await asyncio.sleep(0.01)  # every reader waits for its first event

        def engine_step(texts: list[str], done: bool) -> None:
            with Wakes() as wakes:
                for s, text in zip(streams, texts, strict=True):
                    s.post(TokenEvent(text), wakes)
                    if done:
                        s.post(_done(), wakes)
                assert calls[0] == before  # nobody is woken before the step ends

        before = calls[0]
        _in_thread(engine_step, [f"a{i}" for i in range(8)], False)
        assert calls[0] == before + 1
        await asyncio.sleep(0.01)
        before = calls[0]
        _in_thread(engine_step, [f"b{i}" for i in range(8)], True)
        assert calls[0] == before + 1
        results = await asyncio.gather(*readers)
        assert results == [[f"a{i}", f"b{i}", "DoneEvent"] for i in range(8)]

    asyncio.run(main())


def test_a_post_without_wakes_wakes_at_once_and_a_busy_reader_is_not_woken():
    async def main():
        loop = asyncio.get_running_loop()
        calls = _counting(loop)
        stream = Stream()
        reader = asyncio.ensure_future(_collect(stream))
        await asyncio.sleep(0.01)
        before = calls[0]
        # Two posts with no await between (here on the loop's own thread, so the reader
        # cannot run in between): the first wakes the waiting reader, the second finds
        # nobody waiting and adds its event without a second wake.
        stream.post(TokenEvent("x"))
        stream.post(TokenEvent("y"))
        assert calls[0] == before + 1
        _in_thread(stream.post, ErrorEvent(RuntimeError("unloaded")))
        assert calls[0] == before + 1  # the reader had not run yet: still woken, not woken twice
        assert await reader == ["x", "y", "ErrorEvent"]

    asyncio.run(main())


def test_a_step_that_raises_still_wakes_the_consumers_it_posted_to():
    """The engine posts the error next, without Wakes; the token's post took the waiter,
    so only the step's own wake can reach the reader."""

    async def main():
        stream = Stream()
        reader = asyncio.ensure_future(_collect(stream))
        await asyncio.sleep(0.01)

        def failing_step() -> None:
            try:
                with Wakes() as wakes:
                    stream.post(TokenEvent("t"), wakes)
                    raise RuntimeError("sampling failed")
            except RuntimeError as e:
                stream.post(ErrorEvent(e))

        _in_thread(failing_step)
        assert await asyncio.wait_for(reader, 5) == ["t", "ErrorEvent"]

    asyncio.run(main())
