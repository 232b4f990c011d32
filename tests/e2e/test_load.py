"""A thousand streams at concurrency 16 against 4 slots and a queue of 8: every
answer is a complete stream or a clean 503, nothing hangs, nothing is lost."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx

from tests.conftest import MODEL
from tests.procs import start_server, start_shim

REQUESTS, CONCURRENCY = 1000, 16
QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded"


async def _one(client: httpx.AsyncClient, i: int) -> str:
    body = {"model": MODEL, "prompt": f"Say {i}.", "options": {"temperature": 0, "num_predict": 3}}
    async with client.stream("POST", "/api/generate", json=body) as r:
        raw = await r.aread()
    if r.status_code == 503:
        assert json.loads(raw) == {"error": QUEUE_FULL}
        return "503"
    assert r.status_code == 200, raw[:300]
    lines = [json.loads(line) for line in raw.splitlines()]
    assert all("error" not in x for x in lines), lines[-1]
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] == 3, lines[-1]
    return "complete"


async def _run(url: str) -> Counter:
    outcomes: Counter = Counter()
    todo = iter(range(REQUESTS))
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            for i in todo:
                outcome = await _one(client, i)
                outcomes[outcome] += 1
                if outcome == "503":
                    await asyncio.sleep(0.05)  # as a client told "busy, try again" would

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CONCURRENCY))), timeout=600)
    return outcomes


def test_a_thousand_streams_with_a_bounded_queue(tmp_path):
    server = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="4", OLLAMA_MAX_QUEUE="8")
    shim = start_shim(server.address)
    try:
        outcomes = asyncio.run(_run(f"http://{shim.address}"))
        assert sum(outcomes.values()) == REQUESTS and set(outcomes) <= {"complete", "503"}, outcomes
        # 16 clients against 4 slots and 8 places: some are turned away.
        assert outcomes["503"] > 0 and outcomes["complete"] > 0, outcomes
        print(f"load: {dict(outcomes)}")
        with httpx.Client(base_url=f"http://{shim.address}", timeout=30) as c:
            r = c.post(
                "/api/generate",
                json={"model": MODEL, "prompt": "hi", "stream": False, "options": {"num_predict": 4}},
            )
            assert r.status_code == 200 and r.json()["done"]
    finally:
        shim.stop()
        server.stop()
    assert "Traceback" not in "".join(server.log + shim.log)
