"""Ollama's REST API served by the server process itself (TOKENWIRE_REST_INPROCESS): the
shim's own app and settings (OLLAMA_HOST, OLLAMA_ORIGINS, TOKENWIRE_DEADLINE_*), its
calls on the server's in-process channel instead of a connection to TOKENWIRE_GRPC_ADDR.

Why: the hop between a shim process and its server, even over a Unix socket, is the
largest cost REST adds to a first token (bench/first_token, DEVELOPERS.md), and the
shim's process wakes per streamed token on the cores llama.cpp's threads spin on.
The separate shim stays what a mesh runs in front of many servers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from rest_shim.app import create_app
from rest_shim.listener import listener
from rest_shim.settings import Settings as ShimSettings
from server.inprocess import InProcessChannel


class _Embedded(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the server's own SIGTERM handling stops it, in its drain order


class Rest:
    """uvicorn on the server's event loop, started and stopped with the server."""

    def __init__(self, channel: InProcessChannel, grace_s: float):
        """Raises SettingError for an unusable shim setting, as `python -m rest_shim` would."""
        settings = ShimSettings.from_env()
        self.host = settings.host
        self._server, self._sock = listener(settings, create_app(settings, channel), _Embedded, grace_s)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    async def start(self) -> None:
        self._task = asyncio.ensure_future(self._server.serve(sockets=[self._sock]))
        while not self._server.started:  # its lifespan has run: the routes have their stubs
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the REST listener stopped at start")
            await asyncio.sleep(0.01)

    def close(self) -> None:
        """Stop taking connections (within uvicorn's 0.1 s tick); requests in flight go on."""
        self._server.should_exit = True

    async def closed(self) -> None:
        if self._task is not None:
            await self._task
