"""Workers.prompt: a worker thread unless the caller says the input is short."""

from __future__ import annotations

import asyncio
import threading

from server.workers import INLINE_CHARS, Workers


def test_short_inputs_run_inline_and_the_rest_on_a_prompt_worker():
    async def main() -> list[str]:
        workers = Workers()
        where = lambda: threading.current_thread().name  # noqa: E731
        try:
            return [
                await workers.prompt(where, chars=INLINE_CHARS),
                await workers.prompt(where, chars=INLINE_CHARS + 1),
                await workers.prompt(where),  # size unknown (images, a grammar): a worker
            ]
        finally:
            workers.close()

    inline, long, unknown = asyncio.run(main())
    assert inline == threading.current_thread().name
    assert long.startswith("prompt") and unknown.startswith("prompt")
