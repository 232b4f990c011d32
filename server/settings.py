"""The server's one Settings object, read once from the environment in __main__.

Variable names mirror Ollama's where Ollama has one; tokenwire's own settings are
prefixed TOKENWIRE_. Each is declared once in SPEC (name, default, parser, doc); the
README's table is made from it. Nothing else in server/ reads os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tokenwire_common import settings as s
from tokenwire_common.duration import DEFAULT_KEEP_ALIVE_NS
from tokenwire_common.wire import DEFAULT_GRPC_ADDR


def _basic_auth(raw: str) -> tuple[str, str]:
    user, sep, password = raw.partition(":")
    if not sep or not user:
        raise ValueError("expected user:password")
    return user, password


SPEC: tuple[s.Setting, ...] = (
    s.Setting("grpc_addr", "TOKENWIRE_GRPC_ADDR", DEFAULT_GRPC_ADDR, s.text,
              "where the server listens and the shim connects"),
    s.Setting("grpc_socket", "TOKENWIRE_GRPC_SOCKET", None, s.path,
              "server: a Unix socket path it also listens on, plain (guard it by its "
              "directory's permissions; credentials are still checked), for a shim on the "
              "same host; `make serve` with TOKENWIRE_REST_INPROCESS=false gives its shim one in a "
              "private directory"),
    s.Setting("rest_inprocess", "TOKENWIRE_REST_INPROCESS", False, s.boolean,
              "server: also serve Ollama's REST API from this process, as the shim would (on "
              "OLLAMA_HOST, with the shim's settings), its calls on an in-process channel: one "
              "process and no gRPC hop; `make serve` sets it unless it is set false, which "
              "runs the shim as a second process", shown="false"),
    s.Setting("models_dir", "OLLAMA_MODELS", lambda env: s.home(env) / ".ollama" / "models", s.path,
              "model store, Ollama's layout", shown="~/.ollama/models"),
    s.Setting("num_parallel", "OLLAMA_NUM_PARALLEL", 4, s.integer(1, 256),
              "sequences decoded together per model (Ollama's default is 1; continuous batching "
              "makes parallel slots nearly free)"),
    s.Setting("context_length", "OLLAMA_CONTEXT_LENGTH", 4096, s.integer(0, 1 << 20),
              "default `num_ctx` per sequence (0 = 4096, Ollama's tier below 23 GiB)"),
    s.Setting("keep_alive_ns", "OLLAMA_KEEP_ALIVE", DEFAULT_KEEP_ALIVE_NS, s.keep_alive,
              "how long a model stays loaded after its last request (a duration, seconds, "
              "negative = forever)", shown="5m"),
    s.Setting("max_loaded_models", "OLLAMA_MAX_LOADED_MODELS", 3, s.integer(0, 1024),
              "models loaded at once (0 = 3, Ollama's CPU default)"),
    s.Setting("max_queue", "OLLAMA_MAX_QUEUE", 512, s.integer(1),
              "requests waiting for a model or a slot; past it RESOURCE_EXHAUSTED (503)"),
    s.Setting("num_threads", "TOKENWIRE_NUM_THREADS", 0, s.integer(0, 1 << 16),
              "llama.cpp threads (0 = all cores; more than the cores are capped)"),
    s.Setting("shutdown_grace_s", "TOKENWIRE_SHUTDOWN_GRACE", 30.0, s.seconds,
              "seconds in-flight RPCs get to finish after SIGTERM", shown="30"),
    s.Setting("drain_delay_s", "TOKENWIRE_DRAIN_DELAY", 0.0, s.seconds,
              "seconds after SIGTERM that the server still takes new work while health says "
              "NOT_SERVING, for proxies and Kubernetes to route around it; then it closes its "
              "port and drains", shown="0"),
    s.LOG_JSON,
    s.METRICS,
    s.Setting("metrics_addr", "TOKENWIRE_METRICS_ADDR", None, s.text,
              "host:port of the server's Prometheus listener (`GET /metrics`), for gRPC-only "
              "deployments; unset = none (the shim's `/metrics` still shows the engine's)"),
    s.Setting("default_model", "TOKENWIRE_DEFAULT_MODEL", "smollm2:135m", s.text,
              "the model seeded into the store from set-up's cache (empty = none)",
              empty_is_value=True),
    s.Setting("prune", "OLLAMA_NOPRUNE", True, lambda raw: not s.boolean(raw),
              "set to keep unreferenced blobs and partial downloads at start, as in Ollama",
              shown="–"),
    s.Setting("partial_max_age_s", "TOKENWIRE_PARTIAL_MAX_AGE", 24 * 3600.0, s.seconds,
              "partial downloads older than this are removed at start; younger ones resume",
              shown="24h"),
    s.Setting("basic_auth", "OLLAMA_BASIC_AUTH", None, _basic_auth,
              "`user:password`: HTTP Basic is accepted (REST through the shim, gRPC `authorization`)"),
    s.Setting("api_keys_file", "TOKENWIRE_API_KEYS", None, s.path,
              "file of hashed API keys (`python -m server.auth add NAME`), accepted as "
              "`Authorization: Bearer`, `x-api-key` and gRPC `authorization`"),
    s.Setting("reflection", "TOKENWIRE_REFLECTION", True, s.boolean,
              "gRPC server reflection (behind the same credentials as every RPC)", shown="true"),
    s.Setting("tls_cert", "TOKENWIRE_TLS_CERT", None, s.path,
              "gRPC server certificate (PEM); with the key, TLS"),
    s.Setting("tls_key", "TOKENWIRE_TLS_KEY", None, s.path, "gRPC server private key (PEM)"),
    s.Setting("tls_client_ca", "TOKENWIRE_TLS_CLIENT_CA", None, s.path,
              "CA for client certificates: mutual TLS, a certificate is then required"),
    s.Setting("cache_dir", "TOKENWIRE_CACHE", lambda env: s.home(env) / ".cache" / "tokenwire", s.path,
              "set-up downloads (the llama-cpp-python wheel, the default model)", shown="~/.cache/tokenwire"),
    s.Setting("registry_auth", "TOKENWIRE_REGISTRY_AUTH", None, s.path,
              "registry credentials: a Docker-style `config.json` "
              '(`{"auths": {"host:port": {"auth": "<base64 user:pass>"}}}`)'),
    s.Setting("registry_part_size", "TOKENWIRE_REGISTRY_PART_SIZE", 0, s.integer(0),
              "smallest download part / upload chunk in bytes (0 = Ollama's rule: 1/16 of the blob, "
              "100 MB to 1 GB)"),
    s.Setting("registry_retries", "TOKENWIRE_REGISTRY_RETRIES", 6, s.integer(0, 100),
              "attempts per part after a network failure"),
    s.Setting("registry_backoff_s", "TOKENWIRE_REGISTRY_BACKOFF", 1.0, s.seconds,
              "first backoff between attempts in seconds (doubling)", shown="1"),
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    grpc_addr: str
    grpc_socket: Path | None
    rest_inprocess: bool
    models_dir: Path
    num_parallel: int
    context_length: int
    keep_alive_ns: int
    max_loaded_models: int
    max_queue: int
    num_threads: int
    shutdown_grace_s: float
    drain_delay_s: float
    log_json: bool
    metrics: bool
    metrics_addr: str | None
    default_model: str
    prune: bool
    partial_max_age_s: float
    basic_auth: tuple[str, str] | None
    api_keys_file: Path | None
    reflection: bool
    tls_cert: Path | None
    tls_key: Path | None
    tls_client_ca: Path | None
    cache_dir: Path
    registry_auth: Path | None
    registry_part_size: int
    registry_retries: int
    registry_backoff_s: float
    # Ollama's key, which signs token requests to a registry's own realm.
    ollama_key: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Raises SettingError, naming the variable, for a value that cannot be used."""
        env = os.environ if env is None else env
        values = s.load(SPEC, env)
        values["context_length"] = max(4, values["context_length"] or 4096)
        values["max_loaded_models"] = values["max_loaded_models"] or 3
        if bool(values["tls_cert"]) != bool(values["tls_key"]):
            raise s.SettingError("TOKENWIRE_TLS_CERT and TOKENWIRE_TLS_KEY go together")
        if values["tls_client_ca"] and not values["tls_cert"]:
            raise s.SettingError("TOKENWIRE_TLS_CLIENT_CA needs TOKENWIRE_TLS_CERT and TOKENWIRE_TLS_KEY")
        return cls(**values, ollama_key=s.home(env) / ".ollama" / "id_ed25519")
