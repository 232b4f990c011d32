"""python -m rest_shim: serve the Ollama-compatible REST API with uvicorn."""

from __future__ import annotations

import socket

import uvicorn
import uvloop

from rest_shim.app import create_app
from rest_shim.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    # Tests bind port 0 and read the real port from this line.
    print(f"tokenwire shim listening on {settings.host}:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        timeout_graceful_shutdown=30,
        server_header=False,
        http="httptools",  # C HTTP parser: less CPU per request and per streamed chunk
    )
    uvloop.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
