"""StatusService.GetLoad and per-model health: what a router asks a replica before
sending it work."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

import tokenwire_client
from tests.procs import Proc
from tokenwire.v1 import status_pb2, status_pb2_grpc

MODEL = "smollm2:135m"
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"


def _load(channel: grpc.Channel) -> status_pb2.GetLoadResponse:
    return status_pb2_grpc.StatusServiceStub(channel).GetLoad(status_pb2.GetLoadRequest(), timeout=10)


def _health(channel: grpc.Channel, service: str) -> int | grpc.StatusCode:
    try:
        req = health_pb2.HealthCheckRequest(service=service)
        return health_pb2_grpc.HealthStub(channel).Check(req, timeout=10).status
    except grpc.RpcError as e:
        return e.code()


def test_load_and_per_model_health_follow_the_model(server: Proc):
    client = tokenwire_client.Client(host=server.address)
    with grpc.insecure_channel(server.address) as ch:
        client.generate(model=MODEL, prompt="", keep_alive=0)  # unloaded, whatever ran before
        idle = _load(ch)
        assert MODEL in idle.available and not idle.loaded
        assert idle.max_queue > 0 and idle.max_loaded_models > 0 and not idle.draining
        assert _health(ch, MODEL) in (grpc.StatusCode.NOT_FOUND, health_pb2.HealthCheckResponse.NOT_SERVING)

        stream = client.generate(model=MODEL, prompt=COUNTING, raw=True, stream=True,
                                 options={"num_predict": 100000, "temperature": 0})  # fmt: skip
        next(stream)
        busy = _load(ch)
        (load,) = busy.loaded
        assert load.model == MODEL and load.slots_busy == 1 and load.slots_total >= 1
        assert 0 < load.kv_cache_usage <= 1 and load.context_length > 0 and load.size > 0
        assert load.idle.ToNanoseconds() == 0  # busy
        assert _health(ch, MODEL) == health_pb2.HealthCheckResponse.SERVING
        stream.close()

        client.generate(model=MODEL, prompt="Say yes.", options={"num_predict": 2})
        (load,) = _load(ch).loaded
        assert load.slots_busy == 0 and load.requests_waiting == 0 and load.idle.ToNanoseconds() > 0

        client.generate(model=MODEL, prompt="", keep_alive=0)
        assert not _load(ch).loaded
        assert _health(ch, MODEL) == health_pb2.HealthCheckResponse.NOT_SERVING
