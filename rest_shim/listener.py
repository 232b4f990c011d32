"""uvicorn on the shim's address, for `python -m rest_shim` and for the server that
serves the REST API itself (TOKENWIRE_REST_INPROCESS)."""

from __future__ import annotations

import socket

import uvicorn

from rest_shim.settings import Settings


def listener(
    settings: Settings, app, server: type[uvicorn.Server] = uvicorn.Server, grace_s: float = 30
) -> tuple[uvicorn.Server, socket.socket]:
    """uvicorn serving `app` on the settings' OLLAMA_HOST, its socket already listening
    (a client that connects at once waits in the backlog instead of being refused);
    requests in flight at shutdown get grace_s to finish."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio's own loop sets TCP_NODELAY on an accepted
    # socket only when its proto says TCP (uvloop always does). Without it, in the
    # server's process (TOKENWIRE_REST_INPROCESS) a stream's first line waited for the
    # client's delayed ACK after the response head: 40 ms more to the first token.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,  # the root logger's (configure_logging): text or JSON, with trace ids
        timeout_graceful_shutdown=grace_s,
        server_header=False,
        http="httptools",  # C HTTP parser: less CPU per request and per streamed chunk
        ssl_certfile=settings.https_cert,
        ssl_keyfile=settings.https_key,
    )
    sock.listen(config.backlog)
    return server(config), sock
