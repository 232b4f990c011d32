"""Loaded models: one engine per model, reused while its load options match.

keep_alive (reference §3): a runner's session duration is set at load (the request's
keep_alive or OLLAMA_KEEP_ALIVE) and overwritten by every later request that carries
one. When its last request finishes, expires_at = now + session and an unload timer
starts (0 unloads at once, negative never). OLLAMA_MAX_LOADED_MODELS evicts the idle
runner with the shortest session first, waiting for one to go idle if none is.
Admission is bounded: past OLLAMA_MAX_QUEUE waiting requests, RESOURCE_EXHAUSTED.

The engine factory and the clock are injected so these rules are unit-tested with a
fake engine in milliseconds; the server always uses the real LlamaEngine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.engine.types import Engine, LoadOptions
from server.errors import ResourceExhausted

EngineFactory = Callable[[Path, LoadOptions], Engine]
FOREVER_NS = 2**63 - 1
QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded"


@dataclass
class Runner:
    model_path: Path
    model: Any  # the store's Model, for ps (name, digest, details)
    engine: Engine | None
    options: LoadOptions
    session_ns: int
    refs: int = 0
    expires_at_ns: int = 0
    timer: asyncio.TimerHandle | None = None
    unload_requested: bool = False


class Scheduler:
    def __init__(
        self,
        engine_factory: EngineFactory,
        *,
        default_keep_alive_ns: int = 5 * 60 * 10**9,
        max_loaded: int = 3,
        max_queue: int = 512,
        clock: Callable[[], int] = time.time_ns,
    ):
        self._factory = engine_factory
        self._default_keep_alive = default_keep_alive_ns
        self._max_loaded = max_loaded
        self._max_queue = max_queue
        self._clock = clock
        self._runners: dict[Path, Runner] = {}
        self._lock = asyncio.Lock()
        self._idle = asyncio.Condition(self._lock)
        self._waiting = 0  # requests admitted but not yet holding a runner
        self._tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------ requests

    def _queue_depth(self) -> int:
        return self._waiting + sum(r.engine.pending for r in self._runners.values() if r.engine)

    @asynccontextmanager
    async def use(self, model: Any, options: LoadOptions, keep_alive_ns: int | None) -> AsyncIterator[Engine]:
        """Hold a loaded engine for one request; load, reload or evict as needed."""
        if self._queue_depth() >= self._max_queue:
            raise ResourceExhausted(QUEUE_FULL)
        self._waiting += 1
        try:
            runner = await self._acquire(model, options, keep_alive_ns)
        finally:
            self._waiting -= 1
        try:
            assert runner.engine is not None
            yield runner.engine
        finally:
            await self._release(runner)

    async def _acquire(self, model: Any, options: LoadOptions, keep_alive_ns: int | None) -> Runner:
        path = model.model_path
        async with self._lock:
            while True:
                runner = self._runners.get(path)
                if runner is not None and runner.options == options and not runner.unload_requested:
                    break
                if runner is not None:
                    # Different runner options: reload once its requests are done (Ollama needsReload).
                    runner.unload_requested = True
                    if runner.refs:
                        await self._idle.wait()
                        continue
                    await self._unload_locked(runner)
                if len(self._runners) >= self._max_loaded:
                    victim = self._pick_idle()
                    if victim is None:
                        await self._idle.wait()
                        continue
                    await self._unload_locked(victim)
                runner = Runner(
                    path,
                    model,
                    None,
                    options,
                    self._default_keep_alive if keep_alive_ns is None else keep_alive_ns,
                )
                self._runners[path] = runner
                try:
                    runner.engine = await asyncio.to_thread(self._factory, path, options)
                except BaseException:
                    self._runners.pop(path, None)
                    raise
                break
            if keep_alive_ns is not None:
                runner.session_ns = keep_alive_ns
            runner.model = model
            runner.refs += 1
            if runner.timer is not None:
                runner.timer.cancel()
                runner.timer = None
            return runner

    def _expiry(self, runner: Runner) -> int:
        """now + session, saturating at FOREVER_NS as Go's time.Add does."""
        now = self._clock()
        return now + min(runner.session_ns, FOREVER_NS - now)

    def _pick_idle(self) -> Runner | None:
        idle = [r for r in self._runners.values() if r.refs == 0]
        idle.sort(key=lambda r: (r.session_ns, str(r.model_path)))
        return idle[0] if idle else None

    async def _release(self, runner: Runner) -> None:
        async with self._lock:
            runner.refs -= 1
            if runner.refs > 0:
                return
            runner.expires_at_ns = self._expiry(runner)
            if runner.unload_requested or runner.session_ns == 0:
                await self._unload_locked(runner)
            elif runner.session_ns < FOREVER_NS:
                loop = asyncio.get_running_loop()
                runner.timer = loop.call_later(runner.session_ns / 1e9, self._expire, runner)
            self._idle.notify_all()

    def _expire(self, runner: Runner) -> None:
        async def go() -> None:
            async with self._lock:
                if runner.refs == 0 and self._runners.get(runner.model_path) is runner:
                    await self._unload_locked(runner)
                    self._idle.notify_all()

        task = asyncio.ensure_future(go())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unload_locked(self, runner: Runner) -> None:
        if runner.timer is not None:
            runner.timer.cancel()
        if self._runners.get(runner.model_path) is runner:
            del self._runners[runner.model_path]
        if runner.engine is not None:
            await asyncio.to_thread(runner.engine.close)
            runner.engine = None

    # ------------------------------------------------------------ explicit control

    async def load(self, model: Any, options: LoadOptions, keep_alive_ns: int | None) -> None:
        """Load (or keep) a model without running anything: Ollama's empty-prompt request."""
        async with self.use(model, options, keep_alive_ns):
            pass

    async def unload(self, model_path: Path) -> None:
        """keep_alive 0 with no input: unload now, or as soon as its requests finish."""
        async with self._lock:
            runner = self._runners.get(model_path)
            if runner is None:
                return
            runner.unload_requested = True
            if runner.refs == 0:
                await self._unload_locked(runner)
                self._idle.notify_all()

    def running(self) -> list[Runner]:
        """Loaded runners for ps, latest expiry first. Active ones expire `session` after now."""
        out = []
        for r in self._runners.values():
            if r.engine is None:
                continue
            if r.refs > 0 or r.expires_at_ns == 0:
                r.expires_at_ns = self._expiry(r)
            out.append(r)
        out.sort(key=lambda r: r.expires_at_ns, reverse=True)
        return out

    async def close(self) -> None:
        async with self._lock:
            for r in list(self._runners.values()):
                await self._unload_locked(r)
