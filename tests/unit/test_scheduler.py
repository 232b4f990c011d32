"""Scheduler rules with a fake engine and a fake clock (the only place a fake runner is used)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server.engine.types import LoadOptions
from server.errors import ResourceExhausted
from server.scheduler import FOREVER_NS, QUEUE_FULL, Scheduler

OPTS = LoadOptions(num_ctx=4096, num_batch=512, num_parallel=4, num_thread=0)
MIN = 60 * 10**9


@dataclass
class FakeEngine:
    path: Path
    options: LoadOptions
    num_ctx: int = 4096
    size_bytes: int = 100
    pending: int = 0
    closed: bool = False
    log: list = field(default_factory=list)

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeModel:
    model_path: Path


class Clock:
    def __init__(self) -> None:
        self.now = 1_000 * 10**9

    def __call__(self) -> int:
        return self.now


def make(**kw) -> tuple[Scheduler, list[FakeEngine], Clock]:
    engines: list[FakeEngine] = []
    clock = Clock()

    def factory(path, options):
        e = FakeEngine(path, options)
        engines.append(e)
        return e

    return Scheduler(factory, clock=clock, **kw), engines, clock


A, B, C = FakeModel(Path("/a")), FakeModel(Path("/b")), FakeModel(Path("/c"))


def holding(s, model) -> tuple[asyncio.Task, asyncio.Event]:
    """A request that holds `model` until the returned event is set."""
    release = asyncio.Event()

    async def hold():
        async with s.use(model, OPTS, None):
            await release.wait()

    return asyncio.create_task(hold()), release


async def use(s, model, keep_alive=None, options=OPTS):
    async with s.use(model, options, keep_alive) as engine:
        return engine


async def test_default_keep_alive_sets_expiry_and_reuses_the_runner():
    s, engines, clock = make(default_keep_alive_ns=5 * MIN)
    e1 = await use(s, A)
    e2 = await use(s, A)
    assert e1 is e2 and len(engines) == 1
    (r,) = s.running()
    assert r.expires_at_ns == clock.now + 5 * MIN


async def test_keep_alive_zero_unloads_after_the_request():
    s, engines, _ = make()
    await use(s, A, keep_alive=0)
    assert engines[0].closed and s.running() == []


async def test_negative_keep_alive_is_forever_and_sticks_for_requests_without_one():
    s, _, clock = make(default_keep_alive_ns=5 * MIN)
    await use(s, A, keep_alive=FOREVER_NS)
    await use(s, A)  # no keep_alive: keeps the runner's forever
    (r,) = s.running()
    assert r.session_ns == FOREVER_NS and r.timer is None
    assert r.expires_at_ns == FOREVER_NS  # saturates, like Go's time.Add
    await use(s, A, keep_alive=MIN)  # carrying one overwrites it
    assert s.running()[0].expires_at_ns == clock.now + MIN


async def test_timer_unloads_when_keep_alive_elapses():
    s, engines, _ = make()
    await use(s, A, keep_alive=50_000_000)  # 50 ms
    assert not engines[0].closed
    for _ in range(100):
        await asyncio.sleep(0.01)
        if engines[0].closed:
            break
    assert engines[0].closed and s.running() == []


async def test_other_runner_options_reload():
    s, engines, _ = make()
    await use(s, A)
    await use(s, A, options=LoadOptions(8192, 512, 4, 0))
    assert len(engines) == 2 and engines[0].closed and not engines[1].closed


async def test_max_loaded_evicts_the_idle_runner_with_the_shortest_keep_alive():
    s, engines, _ = make(max_loaded=2)
    await use(s, A, keep_alive=10 * MIN)
    await use(s, B, keep_alive=MIN)
    await use(s, C)
    assert [e.path for e in engines if e.closed] == [Path("/b")]
    assert sorted(str(r.model_path) for r in s.running()) == ["/a", "/c"]


async def test_max_loaded_waits_for_a_busy_runner():
    s, engines, _ = make(max_loaded=1)
    holder, release = holding(s, A)
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(use(s, B))
    await asyncio.sleep(0.05)
    assert not waiter.done(), "B waits while A is busy"
    release.set()
    await holder
    assert (await waiter).path == Path("/b") and engines[0].closed


async def test_queue_bound_answers_resource_exhausted():
    s, _, _ = make(max_queue=1, max_loaded=1)
    holder, release = holding(s, A)
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(use(s, B))  # queued behind A
    await asyncio.sleep(0.01)
    with pytest.raises(ResourceExhausted) as err:
        await use(s, C)
    assert str(err.value) == QUEUE_FULL == "server busy, please try again.  maximum pending requests exceeded"
    release.set()
    await holder
    await waiter


async def test_explicit_unload_waits_for_active_requests():
    s, engines, _ = make()
    task, release = holding(s, A)
    await asyncio.sleep(0.01)
    await s.unload(Path("/a"))
    assert not engines[0].closed
    release.set()
    await task
    assert engines[0].closed
