"""An OTLP/gRPC trace receiver in the test process: what a collector would get."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[dict] = []
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def Export(self, request, context):
        with self._lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    ),
                    "",
                )
                for scope in resource_spans.scope_spans:
                    for s in scope.spans:
                        self.spans.append({
                            "service": service, "name": s.name, "trace_id": s.trace_id.hex(),
                            "span_id": s.span_id.hex(), "parent": s.parent_span_id.hex(),
                            "start": s.start_time_unix_nano, "end": s.end_time_unix_nano,
                            "attributes": {a.key: _value(a.value) for a in s.attributes},
                        })  # fmt: skip
        return trace_service_pb2.ExportTraceServiceResponse()

    def wait_for(self, trace_id: str, names: set[str], timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                got = [s for s in self.spans if s["trace_id"] == trace_id]
            if names <= {s["name"] for s in got}:
                return got
            time.sleep(0.1)
        raise AssertionError(f"spans {names} of {trace_id} not received: {self.spans}")

    def stop(self) -> None:
        self._server.stop(0)


def _value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None
