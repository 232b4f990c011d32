"""Loaded models: one engine per model, reused while its load options match.

This is the skeleton's scheduler: load on demand, reload on different runner
options, explicit unload. keep_alive expiry, eviction and the bounded admission
queue are issue 4's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from server.engine.types import Engine, LoadOptions

EngineFactory = Callable[[Path, LoadOptions], Engine]


@dataclass
class Runner:
    model_path: Path
    engine: Engine
    loaded_at: float


class Scheduler:
    def __init__(self, engine_factory: EngineFactory):
        self._factory = engine_factory
        self._runners: dict[Path, Runner] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, model_path: Path, options: LoadOptions) -> Engine:
        """The engine for a model, loading (or reloading with other options) if needed."""
        async with self._lock:
            runner = self._runners.get(model_path)
            if runner is not None and runner.engine.options == options:
                return runner.engine
            if runner is not None:
                await asyncio.to_thread(runner.engine.close)
                del self._runners[model_path]
            engine = await asyncio.to_thread(self._factory, model_path, options)
            self._runners[model_path] = Runner(model_path, engine, time.time())
            return engine

    async def unload(self, model_path: Path) -> None:
        async with self._lock:
            runner = self._runners.pop(model_path, None)
        if runner is not None:
            await asyncio.to_thread(runner.engine.close)

    async def close(self) -> None:
        async with self._lock:
            runners, self._runners = list(self._runners.values()), {}
        for r in runners:
            await asyncio.to_thread(r.engine.close)
