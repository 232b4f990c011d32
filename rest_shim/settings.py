"""The shim's one Settings object, read once from the environment in __main__.

Each variable is declared once in SPEC (name, default, parser, doc); the README's
table is made from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tokenwire_common import settings as s
from tokenwire_common.wire import DEFAULT_GRPC_ADDR

DEFAULT_PORT = 11434
DEADLINE_PREFIX = "TOKENWIRE_DEADLINE_"
# The routes whose gRPC deadline TOKENWIRE_DEADLINE_<ROUTE> sets.
DEADLINE_ROUTES = (
    "generate", "chat", "embed", "embeddings", "tags", "show", "ps",
    "create", "copy", "delete", "pull", "push",
)  # fmt: skip


def parse_ollama_host(value: str) -> tuple[str, int]:
    """OLLAMA_HOST as Ollama reads it: host, host:port, :port, [v6],
    scheme://host[:port]. No scheme -> port 11434; http -> 80; https -> 443."""
    value = s.clean(value)
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


LB_POLICIES = ("pick_first", "round_robin", "ring_hash")


def _lb_policy(raw: str) -> str:
    if raw not in LB_POLICIES:
        raise ValueError(f"must be one of {', '.join(LB_POLICIES)}")
    return raw


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in raw.split(",") if o.strip())


SPEC: tuple[s.Setting, ...] = (
    s.Setting("listen", "OLLAMA_HOST", ("127.0.0.1", DEFAULT_PORT), parse_ollama_host,
              "where the shim listens (Ollama's forms: `host`, `host:port`, `:port`, `scheme://host:port`)",
              shown="127.0.0.1:11434"),
    s.Setting("grpc_target", "TOKENWIRE_GRPC_ADDR", DEFAULT_GRPC_ADDR, s.text,
              "shim: the gRPC server (or a load-balanced address) it calls"),
    s.Setting("origins", "OLLAMA_ORIGINS", (), _origins,
              "extra CORS origins, comma-separated, wildcards allowed"),
    s.Setting("max_body_bytes", "TOKENWIRE_MAX_BODY_BYTES", 64 * 1024 * 1024, s.integer(1),
              "shim: largest JSON body (413 past it; blob uploads stream)"),
    s.Setting("grpc_tls", "TOKENWIRE_GRPC_TLS", False, s.boolean,
              "shim: call the server over TLS (implied by `TOKENWIRE_GRPC_CA`)", shown="false"),
    s.Setting("grpc_ca", "TOKENWIRE_GRPC_CA", None, s.path,
              "shim: CA that signed the server's certificate (PEM; default: the system's)"),
    s.Setting("grpc_client_cert", "TOKENWIRE_GRPC_CLIENT_CERT", None, s.path,
              "shim: client certificate for mutual TLS (PEM)"),
    s.Setting("grpc_client_key", "TOKENWIRE_GRPC_CLIENT_KEY", None, s.path,
              "shim: client certificate's key (PEM)"),
    s.Setting("https_cert", "TOKENWIRE_HTTPS_CERT", None, s.path,
              "shim: serve HTTPS with this certificate (PEM) and `TOKENWIRE_HTTPS_KEY`"),
    s.Setting("https_key", "TOKENWIRE_HTTPS_KEY", None, s.path, "shim: the HTTPS certificate's key (PEM)"),
    s.Setting("grpc_lb", "TOKENWIRE_GRPC_LB", "pick_first", _lb_policy,
              "shim: how it spreads calls over several servers (`TOKENWIRE_GRPC_ADDR` as "
              "`ipv4:h1:p1,h2:p2` or `dns:///name:port`): `pick_first` (one server, or a proxy), "
              "`round_robin`, or `ring_hash` on `x-tokenwire-model` (model affinity without a proxy)"),
    s.Setting("model_spread", "TOKENWIRE_MODEL_SPREAD", 1, s.integer(1, 1024),
              "shim: replicas a proxy that hashes on `x-tokenwire-model` spreads each model over "
              "(1: each model stays on one replica)"),
    s.LOG_JSON,
    s.METRICS,
    s.Setting("engine_metrics", "TOKENWIRE_SHIM_ENGINE_METRICS", True, s.boolean,
              "shim: `GET /metrics` also shows the engine's (one replica); turn off where "
              "Prometheus scrapes each server itself, so nothing is counted twice", shown="true"),
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    grpc_target: str
    origins: tuple[str, ...]
    max_body_bytes: int
    grpc_tls: bool
    grpc_ca: Path | None
    grpc_client_cert: Path | None
    grpc_client_key: Path | None
    https_cert: Path | None
    https_key: Path | None
    engine_metrics: bool
    log_json: bool
    metrics: bool
    model_spread: int
    grpc_lb: str
    # Per-route gRPC deadlines in seconds (TOKENWIRE_DEADLINE_<ROUTE>); absent = none,
    # as Ollama has none.
    deadlines: tuple[tuple[str, float], ...]

    def deadline(self, route: str) -> float | None:
        return dict(self.deadlines).get(route)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Raises SettingError, naming the variable, for a value that cannot be used."""
        env = os.environ if env is None else env
        values = s.load(SPEC, env)
        host, port = values.pop("listen")
        deadlines = []
        for route in DEADLINE_ROUTES:
            name = DEADLINE_PREFIX + route.upper()
            if raw := s.clean(env.get(name)):
                try:
                    deadlines.append((route, s.seconds(raw)))
                except ValueError as e:
                    raise s.SettingError(f"{name}={raw!r}: {e}") from None
        if bool(values["grpc_client_cert"]) != bool(values["grpc_client_key"]):
            raise s.SettingError("TOKENWIRE_GRPC_CLIENT_CERT and TOKENWIRE_GRPC_CLIENT_KEY go together")
        if bool(values["https_cert"]) != bool(values["https_key"]):
            raise s.SettingError("TOKENWIRE_HTTPS_CERT and TOKENWIRE_HTTPS_KEY go together")
        values["grpc_tls"] = values["grpc_tls"] or bool(values["grpc_ca"] or values["grpc_client_cert"])
        return cls(host=host, port=port, deadlines=tuple(deadlines), **values)
