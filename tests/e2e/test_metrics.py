"""Prometheus metrics, scraped by a real Prometheus (Debian's): the server's own
listener and the shim's GET /metrics. After a known workload, PromQL gives the
expected counts: requests, tokens, cancellations by cause, and a 503 rejection."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

import tokenwire_client
from tests.procs import Proc, start_server, start_shim
from tests.prometheus import Prometheus
from tokenwire.v1 import status_pb2, status_pb2_grpc

MODEL = "smollm2:135m"
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"  # greedy counting runs for minutes
ENDLESS = {"num_predict": 100000, "temperature": 0}


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[Proc, Proc, Prometheus]]:
    root = tmp_path_factory.mktemp("metrics")
    # One slot and a queue of one: the third concurrent request is refused (503).
    server = start_server(
        root / "models", OLLAMA_NUM_PARALLEL="1", OLLAMA_MAX_QUEUE="1", TOKENWIRE_METRICS_ADDR="127.0.0.1:0"
    )
    shim = start_shim(server.address)
    prometheus = Prometheus(
        root / "prometheus", {"server": server.listening("metrics"), "shim": shim.address}
    )
    try:
        yield server, shim, prometheus
    finally:
        prometheus.stop()
        shim.stop()
        server.stop()


def _waiting(server: Proc) -> int:
    import grpc

    with grpc.insecure_channel(server.address) as ch:
        return (
            status_pb2_grpc.StatusServiceStub(ch)
            .GetLoad(status_pb2.GetLoadRequest(), timeout=10)
            .requests_waiting
        )


def _workload(server: Proc, shim: Proc) -> dict[str, int]:
    """Three answers through the shim, a stream left part-way, a deadline, and a queue
    overflow; what the answers said, to compare with what Prometheus counted."""
    seen = {"eval": 0, "prompt": 0}
    with httpx.Client(base_url=f"http://{shim.address}", timeout=120) as http:
        for question in ("Why is the sky blue?", "Name a colour.", "Say hi."):
            body = {"model": MODEL, "prompt": question, "stream": False, "options": {"num_predict": 4}}
            answer = http.post("/api/generate", json=body).json()
            seen["eval"] += answer["eval_count"]
            seen["prompt"] += answer["prompt_eval_count"]

        client = tokenwire_client.Client(host=server.address)
        for i, _ in enumerate(
            client.generate(model=MODEL, prompt=COUNTING, raw=True, stream=True, options=ENDLESS)
        ):
            if i == 1:
                break  # the client leaves: cause "client"
        with pytest.raises(tokenwire_client.ResponseError) as late:
            slow = tokenwire_client.Client(host=server.address, timeout=1)
            for _ in slow.generate(model=MODEL, prompt=COUNTING, raw=True, stream=True, options=ENDLESS):
                pass
        assert late.value.status_code == 504  # cause "deadline"

        # One stream holds the slot, a second waits for it; the third is one too many.
        holders = [client.generate(model=MODEL, prompt=COUNTING, raw=True, stream=True, options=ENDLESS)]
        next(holders[0])
        waiter = client.generate(model=MODEL, prompt=COUNTING, raw=True, stream=True, options=ENDLESS)
        started = threading.Thread(target=lambda: next(waiter, None), daemon=True)
        started.start()
        deadline = time.monotonic() + 30
        while _waiting(server) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        full = http.post("/api/generate", json={"model": MODEL, "prompt": "hi", "stream": False})
        assert full.status_code == 503, full.text
        holders[0].close()  # the two left: cause "client", twice more (the waiter then runs)
        started.join(30)
        waiter.close()
    return seen


def test_prometheus_counts_a_known_workload(stack):
    server, shim, prometheus = stack
    seen = _workload(server, shim)
    time.sleep(0.5)  # the last request's end is recorded after its answer went out
    prometheus.wait_scraped_after(time.time())
    assert prometheus.targets_up() == {"server": True, "shim": True}

    def q(promql: str) -> float | None:
        return prometheus.query(promql)

    assert q('sum(tokenwire_requests_total{job="server",outcome=~"stop|length"})') == 3
    assert q('sum(tokenwire_generation_tokens_total{job="server"})') == seen["eval"]
    assert q('sum(tokenwire_prompt_tokens_total{job="server"})') == seen["prompt"]
    assert q('tokenwire_request_cancellations_total{job="server",cause="client"}') == 3
    assert q('tokenwire_request_cancellations_total{job="server",cause="deadline"}') == 1
    assert q('tokenwire_queue_rejections_total{job="server"}') == 1
    assert q('tokenwire_http_requests_total{job="shim",route="/api/generate",status="503"}') == 1
    assert q('tokenwire_http_requests_total{job="shim",route="/api/generate",status="200"}') == 3
    assert q('sum(tokenwire_time_to_first_token_seconds_count{job="server"})') >= 3
    assert q('tokenwire_slots{job="server",model="smollm2:135m"}') == 1
    assert q('tokenwire_models_loaded{job="server"}') == 1
    assert (
        q('grpc_server_handled_total{job="server",grpc_method="Generate",grpc_code="DEADLINE_EXCEEDED"}') == 1
    )
    # The shim's one scrape also carries the engine's families (StatusService.GetMetrics).
    assert q('sum(tokenwire_generation_tokens_total{job="shim"})') == seen["eval"]
    assert q('process_cpu_seconds_total{job="shim"}') is not None
