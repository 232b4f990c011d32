"""The channel a client holds: address, TLS, credentials, retries, message limits."""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import descriptor_pb2

from tokenwire.v1 import inference_pb2, models_pb2
from tokenwire_common import wire
from tokenwire_common.wire import DEFAULT_GRPC_ADDR, MESSAGE_SIZE_OPTIONS

_RETRIED = (
    descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
    descriptor_pb2.MethodOptions.IDEMPOTENT,
)

# gRPC's own retry machinery (A6), for UNAVAILABLE only: a replica that is draining or
# not up yet. Five attempts with 0.1-2 s exponential backoff cover a rolling restart.
RETRY_POLICY = {
    "maxAttempts": 5,
    "initialBackoff": "0.1s",
    "maxBackoff": "2s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def idempotent_methods() -> list[dict[str, str]]:
    """Every RPC the contract marks NO_SIDE_EFFECTS or IDEMPOTENT: the ones retried.

    Read from the protos' idempotency_level options, so marking an RPC there is the
    one step that makes every client retry it."""
    names = []
    for file in (inference_pb2.DESCRIPTOR, models_pb2.DESCRIPTOR):
        for service in file.services_by_name.values():
            for method in service.methods:
                if method.GetOptions().idempotency_level in _RETRIED and not method.client_streaming:
                    names.append({"service": service.full_name, "method": method.name})
    return names


def service_config() -> str:
    return json.dumps({"methodConfig": [{"name": idempotent_methods(), "retryPolicy": RETRY_POLICY}]})


def target(host: str | None) -> tuple[str, bool]:
    """(gRPC target, TLS?) from the `host` argument, else TOKENWIRE_GRPC_ADDR.

    Accepts "host:port", "dns:///host:port", and "http://" or "https://" URLs as
    ollama-python users write them; "https://" turns TLS on."""
    raw = (host or os.environ.get("TOKENWIRE_GRPC_ADDR") or DEFAULT_GRPC_ADDR).strip()
    tls = raw.startswith("https://")
    for scheme in ("http://", "https://", "grpc://", "grpcs://"):
        if raw.startswith(scheme):
            tls = tls or scheme == "grpcs://"
            raw = raw[len(scheme) :].rstrip("/")
    return raw, tls


def metadata(headers: Mapping[str, str] | None, auth: tuple[str, str] | None) -> tuple[tuple[str, str], ...]:
    """Headers sent with every call: `headers`, basic auth, or an API key from the
    environment (TOKENWIRE_API_KEY, else OLLAMA_API_KEY as ollama-python reads it)."""
    out = {k.lower(): v for k, v in (headers or {}).items() if v is not None}
    if auth is not None and "authorization" not in out:
        import base64

        out["authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    key = os.environ.get("TOKENWIRE_API_KEY") or os.environ.get("OLLAMA_API_KEY")
    if key and "authorization" not in out:
        out["authorization"] = f"Bearer {key}"
    return tuple(out.items())


def credentials(
    tls: bool,
    root_certificates: bytes | None,
    private_key: bytes | None,
    certificate_chain: bytes | None,
    channel_credentials: grpc.ChannelCredentials | None,
    call_credentials: grpc.CallCredentials | None,
) -> grpc.ChannelCredentials | None:
    """None for a plain-text channel; TLS (mutual with a key and chain) otherwise."""
    creds = channel_credentials
    if creds is None and (tls or root_certificates or certificate_chain):
        creds = grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)
    if call_credentials is not None:
        if creds is None:
            raise ValueError("call_credentials need a TLS channel (tls=True or root_certificates)")
        creds = grpc.composite_channel_credentials(creds, call_credentials)
    return creds


def options(extra: Sequence[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    return [*MESSAGE_SIZE_OPTIONS, ("grpc.service_config", service_config()), *(extra or ())]


class _Details(
    collections.namedtuple(
        "_Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class CallDefaults(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """For stubs made on Client.channel: each call gets what the client's own methods send,
    the credentials' metadata, the model header and the default deadline, so a raw stub
    is not refused by a server that wants an API key."""

    def __init__(self, metadata: tuple[tuple[str, str], ...], timeout: float | None):
        self._metadata, self._timeout = metadata, timeout

    def _details(self, details: grpc.ClientCallDetails, request: object) -> _Details:
        model = wire.model_header(wire.request_model(request))
        metadata = (*(details.metadata or ()), *self._metadata, *model)
        timeout = self._timeout if details.timeout is None else details.timeout
        extra = (getattr(details, "wait_for_ready", None), getattr(details, "compression", None))
        return _Details(details.method, timeout, metadata, details.credentials, *extra)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details, request), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details, request), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details, None), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details, None), requests)
