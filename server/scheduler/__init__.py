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
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server.engine.types import Engine, LoadOptions
from server.errors import ResourceExhausted

EngineFactory = Callable[[Path, LoadOptions], Engine]
FOREVER_NS = 2**63 - 1
QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded"


class Observer(Protocol):
    """Told when a model loads or unloads: metrics and per-model health (server/app.py)."""

    def loaded(self, runner: Runner, seconds: float) -> None: ...

    def unloaded(self, runner: Runner, reason: str) -> None: ...

    def rejected(self) -> None: ...


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
    last_used_ns: int = 0  # when its last request finished; 0 while never used


@dataclass(frozen=True)
class ModelLoad:
    """One loaded (or loading) model's load, for metrics and GetLoad."""

    model: str  # shortest display name
    digest: str
    slots_busy: int
    slots_total: int
    requests_waiting: int
    kv_cache_usage: float
    idle_ns: int  # since its last request finished; 0 while busy or loading
    expires_at_ns: int
    context_length: int
    size: int


class Scheduler:
    def __init__(
        self,
        engine_factory: EngineFactory,
        *,
        default_keep_alive_ns: int = 5 * 60 * 10**9,
        max_loaded: int = 3,
        max_queue: int = 512,
        clock: Callable[[], int] = time.time_ns,
        observer: Observer | None = None,
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
        self._waiting_for: Counter[Path] = Counter()  # the same, by model
        self._tasks: set[asyncio.Task] = set()
        self._observer = observer

    # ------------------------------------------------------------ requests

    def _queue_depth(self) -> int:
        return self._waiting + sum(r.engine.pending for r in self._runners.values() if r.engine)

    @asynccontextmanager
    async def use(self, model: Any, options: LoadOptions, keep_alive_ns: int | None) -> AsyncIterator[Engine]:
        """Hold a loaded engine for one request; load, reload or evict as needed."""
        if self._queue_depth() >= self._max_queue:
            if self._observer is not None:
                self._observer.rejected()
            raise ResourceExhausted(QUEUE_FULL)
        self._waiting += 1
        self._waiting_for[model.model_path] += 1
        try:
            runner = await self._acquire(model, options, keep_alive_ns)
        finally:
            self._waiting -= 1
            self._waiting_for[model.model_path] -= 1
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
                    await self._unload_locked(runner, "reload")
                if len(self._runners) >= self._max_loaded:
                    victim = self._pick_idle()
                    if victim is None:
                        await self._idle.wait()
                        continue
                    await self._unload_locked(victim, "evicted")
                runner = Runner(
                    path,
                    model,
                    None,
                    options,
                    self._default_keep_alive if keep_alive_ns is None else keep_alive_ns,
                )
                self._runners[path] = runner
                started = time.perf_counter()
                try:
                    runner.engine = await asyncio.to_thread(self._factory, path, options)
                except BaseException:
                    self._runners.pop(path, None)
                    raise
                if self._observer is not None:
                    self._observer.loaded(runner, time.perf_counter() - started)
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
            runner.last_used_ns = self._clock()
            if runner.unload_requested or runner.session_ns == 0:
                await self._unload_locked(runner, "requested" if runner.unload_requested else "expired")
            elif runner.session_ns < FOREVER_NS:
                loop = asyncio.get_running_loop()
                runner.timer = loop.call_later(runner.session_ns / 1e9, self._expire, runner)
            self._idle.notify_all()

    def _expire(self, runner: Runner) -> None:
        async def go() -> None:
            async with self._lock:
                if runner.refs == 0 and self._runners.get(runner.model_path) is runner:
                    await self._unload_locked(runner, "expired")
                    self._idle.notify_all()

        task = asyncio.ensure_future(go())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unload_locked(self, runner: Runner, reason: str) -> None:
        if runner.timer is not None:
            runner.timer.cancel()
        if self._runners.get(runner.model_path) is runner:
            del self._runners[runner.model_path]
        if runner.engine is not None:
            await asyncio.to_thread(runner.engine.close)
            runner.engine = None
            if self._observer is not None:
                self._observer.unloaded(runner, reason)

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
                await self._unload_locked(runner, "requested")
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

    def loads(self) -> list[ModelLoad]:
        """Every runner's load, busiest first. Safe from the event loop only."""
        now = self._clock()
        out = []
        for r in list(self._runners.values()):
            engine = r.engine
            status = engine.load_status() if engine is not None else None
            idle = now - r.last_used_ns if r.refs == 0 and r.last_used_ns else 0
            out.append(
                ModelLoad(
                    model=r.model.name.display_shortest(),
                    digest=r.model.digest,
                    slots_busy=status.slots_busy if status else 0,
                    slots_total=status.slots_total if status else r.options.num_parallel,
                    requests_waiting=self.waiting(r.model_path),
                    kv_cache_usage=status.kv_cache_usage if status else 0.0,
                    idle_ns=max(0, idle),
                    expires_at_ns=self._expiry(r) if r.refs or not r.expires_at_ns else r.expires_at_ns,
                    context_length=engine.num_ctx if engine is not None else r.options.num_ctx,
                    size=engine.size_bytes if engine is not None else 0,
                )
            )
        out.sort(key=lambda x: (-(x.slots_busy + x.requests_waiting), x.model))
        return out

    def waiting(self, model_path: Path | None = None) -> int:
        """Requests waiting for a model to load or a slot to free: for one model, or all."""
        if model_path is None:
            return self._queue_depth()
        runner = self._runners.get(model_path)
        engine_waiting = runner.engine.pending if runner is not None and runner.engine else 0
        return self._waiting_for[model_path] + engine_waiting

    @property
    def max_queue(self) -> int:
        return self._max_queue

    @property
    def max_loaded(self) -> int:
        return self._max_loaded

    async def close(self) -> None:
        async with self._lock:
            for r in list(self._runners.values()):
                await self._unload_locked(r, "shutdown")
