"""The CLI's client: TOKENWIRE_GRPC_ADDR and the same TLS settings as the shim's channel
(TOKENWIRE_GRPC_CA, _CLIENT_CERT, _CLIENT_KEY, _TLS); TOKENWIRE_API_KEY is read by the
client itself."""

from __future__ import annotations

import os
from pathlib import Path

import tokenwire_client


def _read(variable: str) -> bytes | None:
    path = os.environ.get(variable, "").strip()
    return Path(path).expanduser().read_bytes() if path else None


def client(timeout: float | None = None) -> tokenwire_client.Client:
    ca, cert, key = (
        _read("TOKENWIRE_GRPC_CA"),
        _read("TOKENWIRE_GRPC_CLIENT_CERT"),
        _read("TOKENWIRE_GRPC_CLIENT_KEY"),
    )
    tls = os.environ.get("TOKENWIRE_GRPC_TLS", "").strip().lower() in ("1", "true", "yes") or bool(ca or cert)
    return tokenwire_client.Client(
        timeout=timeout, tls=tls, root_certificates=ca, private_key=key, certificate_chain=cert
    )


def address() -> str:
    return os.environ.get("TOKENWIRE_GRPC_ADDR", "").strip() or "127.0.0.1:50051"
