"""HTTP hygiene as Ollama's gin stack: CORS with OLLAMA_ORIGINS and Ollama's default
origins, and the Host-header check (a DNS-rebinding guard) on loopback listeners.

A plain ASGI middleware: it looks at a request once, at its start, and only wraps
`send` (to add CORS headers) when the request carries an Origin.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Iterable

_DEFAULT_ORIGINS = [
    f"{scheme}://{host}{port}"
    for host in ("localhost", "127.0.0.1", "0.0.0.0")
    for scheme in ("http", "https")
    for port in ("", ":*")
] + ["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]
_EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
_ALLOW_HEADERS = (
    "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, "
    "x-stainless-arch, x-stainless-async, x-stainless-custom-poll-interval, x-stainless-helper-method, "
    "x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-poll-helper, "
    "x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout"
)
_PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
    (b"access-control-allow-headers", _ALLOW_HEADERS.encode()),
    (b"access-control-max-age", b"43200"),
]


def origin_allowed(origin: str, extra: Iterable[str]) -> bool:
    patterns = [*extra, *_DEFAULT_ORIGINS]
    if "*" in patterns or origin.startswith(_EXTENSION_SCHEMES):
        return True
    return any(fnmatch.fnmatchcase(origin, p) for p in patterns)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(host_header: str) -> bool:
    """Ollama's allowedHost: local addresses and names only."""
    host = host_header.strip()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    host = host.lower()
    if not host:
        return True
    try:
        ip = ipaddress.ip_address(host)
        return ip.is_loopback or ip.is_private or ip.is_unspecified or ip.is_link_local
    except ValueError:
        pass
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    return host in {socket.gethostname().lower(), socket.getfqdn().lower()}


class Hygiene:
    def __init__(self, app, *, origins: Iterable[str], listen_host: str):
        self.app = app
        self.origins = tuple(origins)
        self.check_host = _is_loopback(listen_host)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is not None:
            if not origin_allowed(origin, self.origins):
                return await _empty(send, 403)
            cors = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"),
            ]
            if scope["method"] == "OPTIONS":
                return await _empty(send, 204, [*cors, *_PREFLIGHT])
        if self.check_host and not host_allowed(headers.get("host", "")):
            return await _empty(send, 403)
        if scope["method"] == "OPTIONS":
            return await _empty(send, 204)
        if origin is None:
            return await self.app(scope, receive, send)

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        return await self.app(scope, receive, send_with_cors)


async def _empty(send, status: int, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": b""})
