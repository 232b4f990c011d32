"""StatusService: how busy this replica is (GetLoad) and its metrics (GetMetrics)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from server.metrics.listener import engine_text
from server.scheduler import Scheduler
from server.store.models import ModelStore
from tokenwire.v1 import status_pb2, status_pb2_grpc


class StatusService(status_pb2_grpc.StatusServiceServicer):
    def __init__(self, store: ModelStore, scheduler: Scheduler, draining: Callable[[], bool]):
        self._store = store
        self._scheduler = scheduler
        self._draining = draining

    async def GetLoad(
        self, request: status_pb2.GetLoadRequest, context: grpc.aio.ServicerContext
    ) -> status_pb2.GetLoadResponse:
        out = status_pb2.GetLoadResponse(
            requests_waiting=self._scheduler.waiting(),
            max_queue=self._scheduler.max_queue,
            max_loaded_models=self._scheduler.max_loaded,
            draining=self._draining(),
        )
        for load in self._scheduler.loads():
            idle, expires = Duration(), Timestamp()
            idle.FromNanoseconds(load.idle_ns)
            expires.FromNanoseconds(load.expires_at_ns)
            out.loaded.append(
                status_pb2.ModelLoad(
                    model=load.model,
                    digest=load.digest,
                    slots_busy=load.slots_busy,
                    slots_total=load.slots_total,
                    requests_waiting=load.requests_waiting,
                    kv_cache_usage=load.kv_cache_usage,
                    idle=idle,
                    expires_at=expires,
                    context_length=load.context_length,
                    size=load.size,
                )
            )
        # Reading every manifest is disk work: off the event loop, as ListModels does.
        models = await asyncio.to_thread(self._store.list_models)
        out.available.extend(sorted(m.name.display_shortest() for m in models))
        return out

    async def GetMetrics(
        self, request: status_pb2.GetMetricsRequest, context: grpc.aio.ServicerContext
    ) -> status_pb2.GetMetricsResponse:
        return status_pb2.GetMetricsResponse(text=engine_text())
