"""SIGTERM: health turns NOT_SERVING, in-flight streams finish, then the process exits 0."""

from __future__ import annotations

import queue
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import MODEL
from tests.procs import start_server
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2


def test_sigterm_drains_in_flight_streams(tmp_path):
    """While draining, Check answers NOT_SERVING (not UNAVAILABLE), new work is refused,
    the stream in flight finishes, and the open Watch ends with it: the process exits
    although its grace period is ten minutes."""
    proc = start_server(tmp_path / "models", TOKENWIRE_SHUTDOWN_GRACE="600")
    try:
        with grpc.insecure_channel(proc.address) as ch:
            health = health_pb2_grpc.HealthStub(ch)
            statuses: queue.Queue = queue.Queue()
            watch = health.Watch(health_pb2.HealthCheckRequest(service=""))

            def pump() -> None:
                try:
                    for r in watch:
                        statuses.put(r.status)
                except grpc.RpcError:
                    pass

            watcher = threading.Thread(target=pump, daemon=True)
            watcher.start()
            assert statuses.get(timeout=10) == health_pb2.HealthCheckResponse.SERVING

            stub = inference_pb2_grpc.InferenceServiceStub(ch)
            stream = stub.Generate(
                inference_pb2.GenerateRequest(
                    model=MODEL,
                    prompt="Tell me a story.",
                    options=types_pb2.Options(temperature=0, num_predict=64),
                )
            )
            first = next(stream)
            assert not first.done
            proc.terminate()
            assert statuses.get(timeout=10) == health_pb2.HealthCheckResponse.NOT_SERVING
            check = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
            assert check.status == health_pb2.HealthCheckResponse.NOT_SERVING
            with pytest.raises(grpc.RpcError) as refused:
                stub.Generate(inference_pb2.GenerateRequest(model=MODEL, prompt="late"), timeout=10).next()
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert refused.value.details() == "the server is shutting down"
            rest = list(stream)  # the stream in flight is drained, not cut
            assert rest[-1].done and rest[-1].eval_count == 64
            watcher.join(60)
            assert not watcher.is_alive(), "the Watch stream outlived the in-flight work"
        assert proc.wait(60) == 0
    finally:
        proc.stop()
