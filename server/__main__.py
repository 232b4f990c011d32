"""python -m server: run the gRPC model runner until SIGTERM or SIGINT.

Shutdown is graceful: health turns NOT_SERVING (so a mesh stops routing here), new
work is still taken for TOKENWIRE_DRAIN_DELAY seconds, then the port closes, in-flight
streams get TOKENWIRE_SHUTDOWN_GRACE seconds to finish, and the engines are freed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from server.app import Server, build_server
from server.metrics import listener as metrics_listener
from server.settings import Settings
from tokenwire_common import tracing
from tokenwire_common.settings import SettingError
from tokenwire_common.tracing import configure_logging

if TYPE_CHECKING:
    from server.rest import Rest

_LOG = logging.getLogger("tokenwire.server")


def _rest(settings: Settings, server: Server) -> Rest | None:
    """The REST API in this process (TOKENWIRE_REST_INPROCESS), its port bound; or None."""
    if not settings.rest_inprocess:
        return None
    try:  # the shim's distribution, only when asked for
        from server.rest import Rest
    except ImportError as e:
        raise SettingError(f"TOKENWIRE_REST_INPROCESS needs tokenwire-shim ({e.name})") from None
    return Rest(server.channel, settings.shutdown_grace_s)


async def serve(settings: Settings) -> None:
    server = build_server(settings)
    rest = _rest(settings, server)  # before listening: a bad shim setting stops the start
    await server.grpc_server.start()
    await server.set_serving(True)
    host = settings.grpc_addr.rsplit(":", 1)[0]
    # Tests start the server on port 0 and read the real port from these lines.
    print(f"tokenwire gRPC listening on {host}:{server.port}", flush=True)
    if settings.grpc_socket:
        print(f"tokenwire gRPC listening on unix:{settings.grpc_socket}", flush=True)
    if rest is not None:
        await rest.start()
        print(f"tokenwire REST listening on {rest.host}:{rest.port}", flush=True)
    metrics = None
    if settings.metrics_addr:
        metrics, port = await metrics_listener.start(settings.metrics_addr)
        print(f"tokenwire metrics listening on {settings.metrics_addr.rsplit(':', 1)[0]}:{port}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    # Readiness fails first: health NOT_SERVING (every name, each model's too) while new
    # work is still taken for TOKENWIRE_DRAIN_DELAY, the time a proxy or Kubernetes
    # needs to stop sending. Then the port closes (new connections are refused, so a
    # proxy tries another replica) and every open connection gets a GOAWAY; the RPCs in
    # flight get TOKENWIRE_SHUTDOWN_GRACE to finish.
    server.drain.draining = True
    await server.set_serving(False)
    if settings.drain_delay_s > 0:
        _LOG.info("shutting down: NOT_SERVING, taking new work for %.1fs more", settings.drain_delay_s)
        await asyncio.sleep(settings.drain_delay_s)
    _LOG.info("shutting down: draining in-flight RPCs for up to %.0fs", settings.shutdown_grace_s)
    if rest is not None:
        rest.close()
    closing = asyncio.ensure_future(server.grpc_server.stop(settings.shutdown_grace_s))
    if not await server.drain.drained(settings.shutdown_grace_s):
        _LOG.warning("grace period over: cancelling the RPCs still in flight")
    await server.grpc_server.stop(0)  # ends open health Watch streams too
    await closing
    if rest is not None:
        await rest.closed()  # its requests ended with their calls, or after its own grace
    await server.scheduler.close()
    if metrics is not None:
        metrics.close()
    _LOG.info("stopped")


def main() -> None:
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_json)
        tracing.configure("tokenwire-server")
        asyncio.run(serve(settings))
    except SettingError as e:  # a variable, or a file one names (the API keys), unusable
        sys.exit(f"tokenwire server: {e}")
    finally:
        tracing.shutdown()


if __name__ == "__main__":
    main()
