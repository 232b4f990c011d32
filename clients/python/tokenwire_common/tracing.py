"""OpenTelemetry for the server and the shim: on when OTEL_EXPORTER_OTLP_ENDPOINT is set,
otherwise not even imported, so tracing off costs nothing on the request path.

The W3C `traceparent` travels from HTTP (the shim's middleware) into gRPC metadata
(`inject`) and out of it on the server (`extract`); every log line carries the current
trace id (`TraceIdFilter`). This module lives in tokenwire_common for both processes;
it imports opentelemetry only in `configure`, which only they call (the client
distribution does not depend on it).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

_TRACER: Any = None  # an opentelemetry Tracer once configured; None = tracing off


def enabled() -> bool:
    return _TRACER is not None


def tracer() -> Any:
    return _TRACER


def configure(service_name: str, env: Mapping[str, str] | None = None) -> bool:
    """Export spans over OTLP/gRPC when the standard variables ask for it (the exporter
    reads OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _INSECURE, ...; OTEL_SERVICE_NAME
    overrides the name). Returns whether tracing is on."""
    global _TRACER
    env = os.environ if env is None else env
    if not env.get("OTEL_EXPORTER_OTLP_ENDPOINT") and not env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _TRACER = trace.get_tracer("tokenwire")
    return True


def shutdown() -> None:
    """Flush the spans still queued (at exit)."""
    if _TRACER is None:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if hasattr(provider, "shutdown"):
        provider.shutdown()


def inject() -> list[tuple[str, str]]:
    """The current trace context as gRPC metadata (`traceparent`, `tracestate`)."""
    if _TRACER is None:
        return []
    from opentelemetry.propagate import inject as _inject

    carrier: dict[str, str] = {}
    _inject(carrier)
    return list(carrier.items())


def extract(metadata: Iterable[tuple[str, Any]]) -> Any:
    """An OpenTelemetry Context from incoming gRPC metadata or HTTP headers."""
    from opentelemetry.propagate import extract as _extract

    carrier = {k.lower(): v for k, v in metadata if isinstance(v, str)}
    return _extract(carrier)


class TraceIdFilter(logging.Filter):
    """Adds `trace_id` (32 hex digits, or "-") to every record, from the current span."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = "-"
        if _TRACER is not None:
            from opentelemetry import trace

            ctx = trace.get_current_span().get_span_context()
            if ctx.is_valid:
                record.trace_id = format(ctx.trace_id, "032x")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """The root logger of a tokenwire process: text or JSON lines, with the trace id."""
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        text = "%(asctime)s %(levelname)s %(name)s [%(trace_id)s]: %(message)s"
        handler.setFormatter(logging.Formatter(text))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
