"""Embeddings: texts through the scheduler's engine as one job, checked and normalised."""

from __future__ import annotations

import asyncio
import math
import time

from server import limits
from server.engine.types import EmbedJob
from server.errors import Internal, InvalidArgument, NotFound
from server.generation.run import Runner, keep_alive_of
from server.scheduler import Scheduler
from server.store.models import Model, ModelStore
from server.workers import Workers


class Embedder:
    def __init__(self, store: ModelStore, scheduler: Scheduler, workers: Workers, runner: Runner):
        self._store = store
        self._scheduler = scheduler
        self._workers = workers
        self._runner = runner

    async def model(self, name: str) -> Model:
        def resolve() -> Model:
            try:
                return self._store.resolve(name)
            except NotFound:
                raise NotFound(f'model "{name}" not found, try pulling it first') from None

        return await asyncio.to_thread(resolve)

    async def vectors(
        self, request, model: Model, texts: list[str], truncate: bool
    ) -> tuple[list[list[float]], int, int]:
        """Raw vectors, tokens evaluated, and load_duration, for texts embedded in one job."""
        t0 = time.perf_counter_ns()
        load = self._runner.load_options(request, model)
        async with self._scheduler.use(model, load, keep_alive_of(request)) as engine:
            load_ns = time.perf_counter_ns() - t0
            if not texts:
                return [], 0, load_ns
            limits.check_text("input", "".join(texts))
            inputs = await self._workers.prompt(lambda: [engine.tokenize(t) for t in texts])
            for i, tokens in enumerate(inputs):
                if len(tokens) > engine.num_ctx:
                    if not truncate:
                        raise InvalidArgument("the input length exceeds the context length")
                    inputs[i] = tokens[: engine.num_ctx]
            job = EmbedJob(inputs)
            engine.embed(job)
            try:
                vectors = await job.result
            finally:
                job.result.cancel()  # an abandoned job is skipped if not yet started
            for v in vectors:
                if not all(math.isfinite(x) for x in v):
                    raise Internal("embedding contains NaN or Inf values")
            return vectors, sum(map(len, inputs)), load_ns


def normalize(v: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v] if norm > 0 else v
