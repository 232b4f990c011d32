"""bench/abandon: does work a client abandoned while queued cost the next user anything?

    python -m bench.abandon [--clients 50] [--reps 5]

On one server and shim (4 slots), each repetition measures the time to first token
of a streamed /api/generate on the idle server, then opens `--clients` streamed
requests with long prompts and long generations, lets them queue, and closes every
connection before its first token; then it measures the next request's time to first
token again, at once and `--settle` seconds later. It prints the medians and their
ratios to idle; about 1.0 means the abandoned requests were cancelled while queued.
The probe sent at once can meet one engine step already under way for a sequence that
was decoding when its client left (a step that decodes is never aborted midway: the
abort check would cost every token), so it may pay up to one step. (Before the shim watched for
disconnects ahead of the first message, four such requests pushed the next first
token from 0.13 s to 26-43 s.) Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.conftest import MODEL
from tests.procs import start_server, start_shim

LONG_PROMPT = "Tell me everything you know about rivers, mountains and seas. " * 60
PROBE = {"model": MODEL, "prompt": "Say hi.", "options": {"temperature": 0, "num_predict": 4}}


async def ttft(client: httpx.AsyncClient) -> float:
    t0 = time.perf_counter()
    first = None
    async with client.stream("POST", "/api/generate", json=PROBE) as r:
        async for _line in r.aiter_lines():
            first = first or time.perf_counter() - t0
    assert first is not None
    return first


async def abandon(url: str, n: int) -> None:
    """n requests that queue behind each other; every client leaves before a byte."""
    body = {"model": MODEL, "prompt": LONG_PROMPT, "options": {"temperature": 0, "num_predict": 2000}}

    async def one() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(60, read=0.5)) as c:
            try:
                async with c.stream("POST", "/api/generate", json=body) as r:
                    async for _line in r.aiter_lines():
                        return  # got a byte: leave now
            except httpx.ReadTimeout:
                pass  # queued or in prefill with nothing sent yet: leave

    await asyncio.gather(*(one() for _ in range(n)))


async def run(
    url: str, clients: int, reps: int, settle: float
) -> tuple[list[float], list[float], list[float]]:
    idle, after, later = [], [], []
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await ttft(client)  # load the model
        for _ in range(reps):
            await asyncio.sleep(1.0)
            idle.append(await ttft(client))
            await abandon(url, clients)
            after.append(await ttft(client))
            await asyncio.sleep(settle)
            later.append(await ttft(client))
    return idle, after, later


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--settle", type=float, default=0.25, help="seconds before the second probe")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "models", OLLAMA_NUM_PARALLEL="4")
        shim = start_shim(server.address)
        try:
            idle, after, later = asyncio.run(
                run(f"http://{shim.address}", args.clients, args.reps, args.settle)
            )
        finally:
            shim.stop()
            server.stop()
    i, a, b = (statistics.median(x) for x in (idle, after, later))
    print(
        f"time to first token, median of {args.reps}: idle {i * 1000:.0f} ms; right after "
        f"{args.clients} clients left while queued {a * 1000:.0f} ms; {args.settle} s later {b * 1000:.0f} ms"
    )
    print(f"ratio right after / idle: {a / i:.2f}   ratio {args.settle} s later / idle: {b / i:.2f}")


if __name__ == "__main__":
    main()
