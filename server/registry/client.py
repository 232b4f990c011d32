"""An OCI distribution v2 client as Ollama uses it (reference §6), on httpx.

`RegistryClient` is one per server: it owns the connection pool, the credentials and
the downloads in flight (so two pulls of one blob share one download). A
`Repository` is one operation's view of `{scheme}://{host}/v2/{namespace}/{model}`,
holding the bearer token that operation earned.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from server.errors import (
    Internal,
    NotFound,
    PermissionDenied,
    TokenwireError,
    Unauthenticated,
    Unavailable,
)
from server.registry.auth import (
    Basic,
    Challenge,
    Credentials,
    OllamaKey,
    parse_challenge,
    signed_payload,
    token_request_params,
)
from server.store.manifest import MANIFEST_MEDIA_TYPE
from server.store.names import Name
from server.version import OLLAMA_API_VERSION

USER_AGENT = (
    f"ollama/{OLLAMA_API_VERSION} ({platform.machine().lower()} {platform.system().lower()}) "
    f"tokenwire Python/{platform.python_version()}"
)
MAX_MANIFEST_BYTES = 4 << 20
# What is read of any body other than a blob's or a manifest's (errors, tokens, upload
# answers): a registry's 400 MB error page once added 455 MB of memory, read whole.
MAX_BODY_BYTES = 64 << 10
# A manifest's claims are checked before anything is planned or allocated: a layer of
# 2**62 bytes once made the download plan billions of parts and grow past 22 GB.
# 2 TiB holds the largest published GGUFs (a 671B model at F16 is about 1.3 TB).
MAX_BLOB_BYTES = 2 << 40
MAX_LAYERS = 256
# Ollama splits a blob into 16 download parts (64 upload parts) of 100 MB to 1000 MB.
MIN_PART, MAX_PART = 100_000_000, 1_000_000_000
DOWNLOAD_PARTS = 16
UPLOAD_PARTS = 64


@dataclass(frozen=True)
class RegistryOptions:
    credentials: Credentials
    ollama_key: OllamaKey | None = None
    # Smallest part of a ranged download or chunked upload; 0 = Ollama's 100 MB.
    part_size: int = 0
    # Attempts per part after a network failure, with 2^n s backoff (Ollama: 6).
    retries: int = 6
    backoff_s: float = 1.0
    # A part that receives nothing for this long is retried without counting (Ollama: 30 s).
    stall_s: float = 30.0


def part_size(total: int, parts: int, floor: int) -> int:
    """Ollama's rule: total/parts clamped to [100 MB, 1000 MB]; `floor` lowers the minimum."""
    low = floor or MIN_PART
    return max(1, min(max(total // parts, low), max(MAX_PART, low)))


class HTTPStatusError(TokenwireError):
    """A registry answer ≥ 400, as Ollama words it: `<code>: <body>`."""

    def __init__(self, status: int, body: str, prefix: str = ""):
        self.status = status
        self.code = _grpc_code_for(status)
        super().__init__(f"{prefix}{status}: {body}".rstrip(": "))


def _grpc_code_for(status: int):
    cls = {401: Unauthenticated, 403: PermissionDenied, 404: NotFound}.get(status)
    if cls is None:
        cls = Unavailable if status >= 500 or status == 429 else Internal
    return cls.code


def retryable(err: BaseException) -> bool:
    """Network failures and 5xx/429 answers are worth another attempt; the rest are not."""
    if isinstance(err, RegistryUnreachable):
        return True
    return isinstance(err, HTTPStatusError) and (err.status >= 500 or err.status == 429)


def retry_delay(options: RegistryOptions, failures: int, err: TokenwireError) -> float:
    """Seconds to wait after the `failures`-th failed attempt (doubling from backoff_s);
    Ollama's `max retries exceeded` once the configured retries are used up."""
    if failures > options.retries:
        raise Unavailable(f"max retries exceeded: {err.message}") from None
    return options.backoff_s * 2 ** (failures - 1)


class RegistryUnreachable(Unavailable):
    """The registry could not be reached or the connection broke, as Go words it:
    `Get "<url>": <reason>`."""

    def __init__(self, method: str, url: str, err: BaseException):
        self.stalled = isinstance(err, httpx.ReadTimeout)
        super().__init__(f'{method.capitalize()} "{url}": {_reason(url, err)}')


def _reason(url: str, err: BaseException) -> str:
    """The root cause in Go's words where it has some ("dial tcp 127.0.0.1:9: connect:
    connection refused", "dial tcp: lookup host: no such host"), else httpx's text."""
    host = urlsplit(url).netloc
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return f"dial tcp: lookup {urlsplit(url).hostname}: no such host"
        if isinstance(cause, ConnectionRefusedError):
            return f"dial tcp {host}: connect: connection refused"
        cause = cause.__cause__ or cause.__context__
    return str(err) or type(err).__name__


@contextlib.asynccontextmanager
async def shared(inflight: dict, key: Any, start: Callable[[], Any]) -> AsyncIterator[Any]:
    """Join the transfer in flight under `key`, or `start()` one (an object with a
    running `task` and a `refs` count). The last one to leave cancels it; a finished
    transfer is forgotten, so the next caller starts afresh."""
    item = inflight.get(key)
    if item is None:
        item = start()
        inflight[key] = item
        item.task.add_done_callback(lambda _t: _forget(inflight, key, item))
    item.refs += 1
    try:
        yield item
    finally:
        item.refs -= 1
        if item.refs == 0 and not item.task.done():
            item.task.cancel()


def _forget(inflight: dict, key: Any, item: Any) -> None:
    if inflight.get(key) is item:
        del inflight[key]
    if not item.task.cancelled():
        item.task.exception()  # retrieved, so asyncio does not log it as unhandled


class RegistryClient:
    def __init__(self, options: RegistryOptions):
        self.options = options
        self._http: httpx.AsyncClient | None = None
        # Blob downloads in flight, by digest (server/registry/download.py).
        self.downloads: dict[str, Any] = {}
        # Blob uploads in flight, by (registry, repository, digest).
        self.uploads: dict[tuple[str, str, str], Any] = {}
        # How many pulls in flight need each new blob (see operations.pull).
        self._pins: Counter[str] = Counter()

    @contextlib.contextmanager
    def pinned(self, digests: set[str]) -> Iterator[None]:
        self._pins.update(digests)
        try:
            yield
        finally:
            self._pins.subtract(digests)
            self._pins = +self._pins

    def pinned_by_others(self, digests: set[str]) -> set[str]:
        """Of the digests pinned by the caller, those another pull also pins."""
        return {d for d in digests if self._pins[d] > 1}

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.options.stall_s, connect=10.0),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                trust_env=True,  # HTTP(S)_PROXY and NO_PROXY, as Ollama honours them
            )
        return self._http

    def repository(self, name: Name, insecure: bool) -> Repository:
        return Repository(self, name, insecure)


class Repository:
    def __init__(self, client: RegistryClient, name: Name, insecure: bool):
        # Like Ollama's makeRequest, `insecure` turns every request into plain HTTP.
        scheme = "http" if insecure or name.scheme == "http" else "https"
        self.client = client
        self.name = name
        self.host = name.host
        self.base = f"{scheme}://{name.host}"
        self.path = f"{name.namespace}/{name.model}"
        self._authorization: str | None = None
        self._auth_lock = asyncio.Lock()

    def url(self, *parts: str) -> str:
        return "/".join([self.base, "v2", self.path, *parts])

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: Callable[[], Any] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One request with the auth dance: on a 401, answer its challenge and retry
        once (Ollama's makeRequestWithRetry). `content` is a factory, so a retried
        request sends its body again. Transport failures raise RegistryUnreachable."""
        http = self.client.http
        for attempt in range(2):
            h = {"User-Agent": USER_AGENT, **(headers or {})}
            used = self._authorization
            if used:
                h["Authorization"] = used
            request = http.build_request(method, url, headers=h, content=content() if content else None)
            try:
                # Always streamed, so no body is read whole; a caller that did not ask
                # for a stream gets the body read up to MAX_BODY_BYTES.
                resp = await http.send(request, stream=True, follow_redirects=True)
                if resp.status_code != 401 and not stream:
                    return await _capped(resp)
            except httpx.TransportError as err:
                raise RegistryUnreachable(method, url, err) from None
            if resp.status_code != 401:
                return resp
            challenge = parse_challenge(resp.headers.get("www-authenticate", ""))
            await resp.aclose()
            if attempt == 0 and challenge is not None:
                await self._answer(challenge, used)
        raise Unauthenticated("unauthorized: access denied")

    async def _answer(self, challenge: Challenge, used: str | None) -> None:
        async with self._auth_lock:
            if self._authorization != used:
                return  # another request of this operation already refreshed it
            creds = self.client.options.credentials.for_host(self.host)
            if challenge.scheme == "basic":
                if creds is None:
                    raise Unauthenticated("unauthorized: access denied")
                self._authorization = creds.header()
            elif challenge.scheme == "bearer":
                self._authorization = "Bearer " + await self._token(challenge, creds)
            else:
                raise Unauthenticated(f"unsupported authentication scheme {challenge.scheme!r}")

    async def _token(self, challenge: Challenge, creds: Basic | None) -> str:
        if not challenge.realm:
            raise Unauthenticated("unauthorized: the registry's challenge has no realm")
        url = httpx.URL(challenge.realm).copy_merge_params(token_request_params(challenge))
        headers = {"User-Agent": USER_AGENT}
        key = self.client.options.ollama_key
        if creds is not None:
            headers["Authorization"] = creds.header()
        elif key is not None and key.available() and urlsplit(challenge.realm).netloc == self.host:
            # Ollama signs the token request only for its own realm host (auth.go).
            headers["Authorization"] = key.sign(signed_payload(str(url)))
        try:
            resp = await _capped(
                await self.client.http.send(
                    self.client.http.build_request("GET", url, headers=headers), stream=True
                )
            )
        except httpx.TransportError as err:
            raise RegistryUnreachable("GET", str(url), err) from None
        if resp.status_code >= 400:
            raise Unauthenticated(f"{resp.status_code}: {resp.text.strip()}".rstrip(": "))
        try:
            doc = resp.json()
        except ValueError:
            raise Unauthenticated("the token server answered something other than JSON") from None
        token = doc.get("token") or doc.get("access_token")
        if not token:
            raise Unauthenticated("the token server answered no token")
        return token

    # ------------------------------------------------------------------ manifests

    async def get_manifest(self) -> bytes:
        """The manifest's exact bytes (kept as is, so its digest stays the registry's)."""
        prefix = "pull model manifest: "
        try:
            resp = await self.send(
                "GET",
                self.url("manifests", self.name.tag),
                headers={"Accept": MANIFEST_MEDIA_TYPE},
                stream=True,
            )
        except TokenwireError as err:
            err.message = prefix + err.message
            err.args = (err.message,)
            raise
        try:
            if resp.status_code == 404:
                raise NotFound(prefix + "file does not exist")
            await raise_for_status(resp, prefix)
            raw = bytearray()
            async for chunk in resp.aiter_bytes():
                raw += chunk
                if len(raw) > MAX_MANIFEST_BYTES:
                    raise Internal(prefix + "manifest too large")
            return bytes(raw)
        finally:
            await resp.aclose()

    async def put_manifest(self, raw: bytes) -> None:
        resp = await self.send(
            "PUT",
            self.url("manifests", self.name.tag),
            headers={"Content-Type": MANIFEST_MEDIA_TYPE},
            content=lambda: raw,
        )
        await raise_for_status(resp)

    async def blob_size(self, digest: str) -> int | None:
        """HEAD the blob: its size if the registry has it, None if not."""
        resp = await self.send("HEAD", self.url("blobs", digest))
        if resp.status_code == 404:
            return None
        await raise_for_status(resp)
        return int(resp.headers.get("content-length", "0") or 0)


async def read_up_to(resp: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of a streamed body; the rest is never read."""
    data = bytearray()
    async for chunk in resp.aiter_bytes():
        data += chunk[: limit - len(data)]
        if len(data) >= limit:
            break
    return bytes(data)


async def _capped(resp: httpx.Response) -> httpx.Response:
    """A streamed response as a read one, with its body cut to MAX_BODY_BYTES."""
    try:
        body = await read_up_to(resp, MAX_BODY_BYTES)
    finally:
        await resp.aclose()
    return httpx.Response(resp.status_code, headers=resp.headers, content=body, request=resp.request)


async def _body_text(resp: httpx.Response) -> str:
    if resp.is_stream_consumed:
        data = resp.content
    else:
        data = await read_up_to(resp, 4096)
    return data[:4096].decode(errors="replace").strip()


async def raise_for_status(resp: httpx.Response, prefix: str = "") -> None:
    if resp.status_code >= 400:
        try:
            body = await _body_text(resp)
        finally:
            await resp.aclose()
        raise HTTPStatusError(resp.status_code, body, prefix)
