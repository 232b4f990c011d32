"""SIGTERM: health turns NOT_SERVING while new work is still taken for
TOKENWIRE_DRAIN_DELAY, then the port closes, in-flight streams finish, and the process
exits 0."""

from __future__ import annotations

import queue
import socket
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.conftest import MODEL
from tests.procs import start_server
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_sigterm_fails_readiness_then_drains(tmp_path):
    """During the drain delay Check answers NOT_SERVING (for the model too) and a new
    request is still answered; then new connections are refused, the stream in flight
    finishes, and the open Watch ends with it: the process exits although its grace
    period is ten minutes."""
    proc = start_server(tmp_path / "models", TOKENWIRE_SHUTDOWN_GRACE="600", TOKENWIRE_DRAIN_DELAY="6")
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
            # Greedy counting: no end-of-generation token before num_predict, which
            # outlasts the drain delay, so the stream still runs when the port closes.
            stream = stub.Generate(
                inference_pb2.GenerateRequest(
                    model=MODEL,
                    prompt="1, 2, 3, 4, 5, 6, 7, 8, 9, 10,",
                    raw=True,
                    options=types_pb2.Options(temperature=0, num_predict=400),
                )
            )
            first = next(stream)
            assert not first.done
            proc.terminate()
            assert statuses.get(timeout=10) == health_pb2.HealthCheckResponse.NOT_SERVING
            for service in ("", MODEL):
                check = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                assert check.status == health_pb2.HealthCheckResponse.NOT_SERVING
            # A proxy that has not noticed yet still gets an answer, not an error.
            late = stub.Generate(
                inference_pb2.GenerateRequest(
                    model=MODEL, prompt="late", options=types_pb2.Options(num_predict=2)
                ),
                timeout=30,
            )
            assert list(late)[-1].done
            # It was answered inside the drain delay: the port is still open after it.
            assert not _refused(proc.port), "the port closed before the drain delay was over"
            deadline = time.monotonic() + 30
            while not _refused(proc.port) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _refused(proc.port), "the port stayed open after the drain delay"
            with pytest.raises(grpc.RpcError) as refused:
                stub.Generate(inference_pb2.GenerateRequest(model=MODEL, prompt="later"), timeout=10).next()
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            rest = list(stream)  # the stream in flight is drained, not cut
            assert rest[-1].done and rest[-1].eval_count == 400
            watcher.join(60)
            assert not watcher.is_alive(), "the Watch stream outlived the in-flight work"
        assert proc.wait(60) == 0
    finally:
        proc.stop()
