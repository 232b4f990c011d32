"""The gauges, read from the scheduler when Prometheus scrapes: how many requests run
and wait per model, its slots and KV cache usage, and how many models are loaded."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from server.scheduler import Scheduler


class SchedulerCollector(Collector):
    def __init__(self, scheduler: Scheduler):
        self._scheduler = scheduler

    def collect(self) -> Iterator[GaugeMetricFamily]:
        running = GaugeMetricFamily(
            "tokenwire_requests_running", "Requests generating now (slots busy).", labels=["model"]
        )
        waiting = GaugeMetricFamily(
            "tokenwire_requests_waiting",
            "Requests waiting for their model to load or for a free slot.",
            labels=["model"],
        )
        slots = GaugeMetricFamily(
            "tokenwire_slots", "Sequences the model decodes at once (OLLAMA_NUM_PARALLEL).", labels=["model"]
        )
        kv = GaugeMetricFamily(
            "tokenwire_kv_cache_usage_ratio",
            "Share of the KV cache's cells holding tokens.",
            labels=["model"],
        )
        loads = self._scheduler.loads()
        for load in loads:
            running.add_metric([load.model], load.slots_busy)
            waiting.add_metric([load.model], load.requests_waiting)
            slots.add_metric([load.model], load.slots_total)
            kv.add_metric([load.model], load.kv_cache_usage)
        yield from (running, waiting, slots, kv)
        yield GaugeMetricFamily("tokenwire_models_loaded", "Models loaded now.", value=len(loads))
        # Pod-level forms, for routers that read one number per replica (the Gateway
        # API Inference Extension's endpoint picker: deploy/k8s/gateway/).
        yield GaugeMetricFamily(
            "tokenwire_slots_busy",
            "Requests generating now, for any model.",
            value=sum(x.slots_busy for x in loads),
        )
        yield GaugeMetricFamily(
            "tokenwire_kv_cache_usage_max_ratio",
            "KV cache usage of the fullest loaded model, 0 to 1.",
            value=max((x.kv_cache_usage for x in loads), default=0.0),
        )
        yield GaugeMetricFamily(
            "tokenwire_queue_waiting",
            "Requests waiting, for any model (what OLLAMA_MAX_QUEUE bounds).",
            value=self._scheduler.waiting(),
        )


_COLLECTOR: SchedulerCollector | None = None


def watch(scheduler: Scheduler) -> None:
    """Report this scheduler's gauges; a second server in one process (tests) takes over."""
    global _COLLECTOR
    from server.metrics import REGISTRY

    if _COLLECTOR is None:
        _COLLECTOR = SchedulerCollector(scheduler)
        REGISTRY.register(_COLLECTOR)
    else:
        _COLLECTOR._scheduler = scheduler
