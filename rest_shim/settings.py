"""The shim's one Settings object, read once from the environment in __main__."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 11434


def parse_ollama_host(value: str) -> tuple[str, int]:
    """OLLAMA_HOST as Ollama reads it (reference §9): host, host:port, :port, [v6],
    scheme://host[:port]. No scheme -> port 11434; http -> 80; https -> 443."""
    value = value.strip().strip("\"'").strip()
    if not value:
        return "127.0.0.1", DEFAULT_PORT
    scheme, default_port = "http", DEFAULT_PORT
    if "://" in value:
        scheme, value = value.split("://", 1)
        default_port = 443 if scheme == "https" else 80
    parts = urlsplit(f"//{value}")
    host = parts.hostname or ("0.0.0.0" if value.startswith(":") else "127.0.0.1")
    try:
        port = parts.port if parts.port is not None else default_port
    except ValueError:  # an invalid port falls back to the default, as in Ollama
        port = default_port
    return host, port


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # Where the gRPC server listens (may be a load-balanced address in a mesh).
    grpc_target: str = "127.0.0.1:50051"
    # Per-route gRPC deadlines in seconds (TOKENWIRE_DEADLINE_<ROUTE>, e.g.
    # TOKENWIRE_DEADLINE_GENERATE=300); absent = no deadline, as Ollama has none.
    deadlines: tuple[tuple[str, float], ...] = ()
    # Extra CORS origins (OLLAMA_ORIGINS, comma-separated, wildcards allowed).
    origins: tuple[str, ...] = ()
    # Largest JSON request body (TOKENWIRE_MAX_BODY_BYTES); blob uploads stream and are exempt.
    max_body_bytes: int = 64 * 1024 * 1024

    def deadline(self, route: str) -> float | None:
        return dict(self.deadlines).get(route)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        host, port = parse_ollama_host(env.get("OLLAMA_HOST", ""))
        target = env.get("TOKENWIRE_GRPC_ADDR", "").strip() or "127.0.0.1:50051"
        prefix = "TOKENWIRE_DEADLINE_"
        deadlines = []
        for key, value in env.items():
            if key.startswith(prefix) and value.strip():
                try:
                    deadlines.append((key[len(prefix) :].lower(), float(value)))
                except ValueError:
                    pass
        origins = tuple(o.strip() for o in env.get("OLLAMA_ORIGINS", "").split(",") if o.strip())
        try:
            max_body = int(env.get("TOKENWIRE_MAX_BODY_BYTES", "") or cls.max_body_bytes)
        except ValueError:
            max_body = cls.max_body_bytes
        return cls(
            host=host,
            port=port,
            grpc_target=target,
            deadlines=tuple(sorted(deadlines)),
            origins=origins,
            max_body_bytes=max_body,
        )
