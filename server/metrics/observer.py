"""The scheduler's events as metrics and as per-model health: a loaded model's name is
a grpc.health.v1 service name that is SERVING while it is loaded here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from server.metrics import MODEL_EVICTIONS, MODEL_LOAD_DURATION, MODEL_LOADS, MODEL_UNLOADS, QUEUE_REJECTIONS
from server.metrics.request import CALL
from server.scheduler import Runner

HealthSetter = Callable[[str, bool], Awaitable[None]]
_LOG = logging.getLogger("tokenwire.models")


class ModelEvents:
    def __init__(self) -> None:
        self._health: HealthSetter | None = None
        self._tasks: set[asyncio.Task] = set()

    def report_health(self, setter: HealthSetter) -> None:
        self._health = setter

    def _set_health(self, model: str, serving: bool) -> None:
        if self._health is None:
            return
        task = asyncio.get_running_loop().create_task(self._health(model, serving))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def loaded(self, runner: Runner, seconds: float) -> None:
        name = runner.model.name.display_shortest()
        _LOG.info("loaded %s in %.2f s", name, seconds)  # in the loading request's trace
        MODEL_LOADS.labels(name).inc()
        MODEL_LOAD_DURATION.labels(name).observe(seconds)
        if (call := CALL.get()) is not None:
            call.loaded = True  # the load ran in this request's task: its trace shows it
        self._set_health(name, True)

    def unloaded(self, runner: Runner, reason: str) -> None:
        name = runner.model.name.display_shortest()
        _LOG.info("unloaded %s (%s)", name, reason)
        MODEL_UNLOADS.labels(name, reason).inc()
        if reason == "evicted":
            MODEL_EVICTIONS.labels(name).inc()
        self._set_health(name, False)

    def rejected(self) -> None:
        QUEUE_REJECTIONS.inc()
