"""The metrics listener (TOKENWIRE_METRICS_ADDR): GET /metrics in Prometheus text format,
tokenwire's families plus the process collectors, for gRPC-only deployments.

It runs on the server's event loop rather than prometheus_client's thread, so the
gauges read the scheduler without locks, and it needs no framework: Prometheus sends
one GET per scrape."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from server.metrics import REGISTRY

_PROCESS = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=_PROCESS)
PlatformCollector(registry=_PROCESS)
GCCollector(registry=_PROCESS)


def engine_text() -> str:
    """tokenwire's own families: what GetMetrics sends a co-located shim."""
    return generate_latest(REGISTRY).decode()


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + body


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        method, path, *_ = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        if method not in ("GET", "HEAD"):
            out = _response("405 Method Not Allowed", b"GET only\n", "text/plain")
        elif path.split("?", 1)[0] == "/metrics":
            body = generate_latest(REGISTRY) + generate_latest(_PROCESS)
            out = _response("200 OK", b"" if method == "HEAD" else body, CONTENT_TYPE_LATEST)
        else:
            out = _response("404 Not Found", b"not found: try /metrics\n", "text/plain")
        writer.write(out)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError, ValueError):
        pass  # a client that sent no request, or a malformed one: nothing to answer
    finally:
        writer.close()


async def start(addr: str) -> tuple[asyncio.Server, int]:
    """Listen on host:port (port 0: any free one); returns the server and its port."""
    host, _, port = addr.rpartition(":")
    server = await asyncio.start_server(_handle, host.strip("[]") or None, int(port))
    return server, server.sockets[0].getsockname()[1]
