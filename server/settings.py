"""The server's one Settings object, read once from the environment in __main__.

Variable names mirror Ollama's (reference §9) where Ollama has one; tokenwire's own
settings are prefixed TOKENWIRE_. Nothing else in server/ reads os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tokenwire_common.duration import parse_env_keep_alive

DEFAULT_GRPC_ADDR = "127.0.0.1:50051"


def _clean(value: str | None) -> str:
    # Ollama trims spaces and quotes from every variable (envconfig.Var).
    return (value or "").strip().strip("\"'").strip()


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _clean(env.get(name))
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return max(0.0, float(_clean(env.get(name)) or default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    grpc_addr: str = DEFAULT_GRPC_ADDR
    # Ollama's model store root (OLLAMA_MODELS, default ~/.ollama/models).
    models_dir: Path = Path.home() / ".ollama" / "models"
    # Downloads made by set-up (the default model's GGUF), content-addressed.
    cache_dir: Path = Path.home() / ".cache" / "tokenwire"
    # OLLAMA_KEEP_ALIVE in nanoseconds; negative values mean forever. Default 5m.
    keep_alive_ns: int = 5 * 60 * 10**9
    # OLLAMA_NUM_PARALLEL: sequences decoded together per model. Ollama's default is 1;
    # ours is 4 because continuous batching makes parallel slots nearly free.
    num_parallel: int = 4
    # OLLAMA_MAX_LOADED_MODELS (0 = auto, 3 on CPU).
    max_loaded_models: int = 3
    # OLLAMA_MAX_QUEUE: pending requests before RESOURCE_EXHAUSTED.
    max_queue: int = 512
    # OLLAMA_CONTEXT_LENGTH: default num_ctx (the VRAM tier below 23 GiB is 4096).
    context_length: int = 4096
    # Compute threads for llama.cpp; 0 = all cores.
    num_threads: int = 0
    # Seconds in-flight RPCs get to finish after SIGTERM.
    shutdown_grace_s: float = 30.0
    # The model seeded into an empty store from the set-up cache ("" disables).
    default_model: str = "smollm2:135m"
    # Registry credentials, a Docker-style config.json (TOKENWIRE_REGISTRY_AUTH).
    registry_auth: Path | None = None
    # Ollama's key, which signs token requests to a registry's own realm.
    ollama_key: Path = Path.home() / ".ollama" / "id_ed25519"
    # Smallest part of a ranged download or chunked upload in bytes; 0 = Ollama's 100 MB.
    registry_part_size: int = 0
    # Attempts per part after a network failure (Ollama: 6) and the first backoff.
    registry_retries: int = 6
    registry_backoff_s: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(_clean(env.get("HOME")) or Path.home())
        models = _clean(env.get("OLLAMA_MODELS"))
        cache = _clean(env.get("TOKENWIRE_CACHE"))
        max_loaded = _int(env, "OLLAMA_MAX_LOADED_MODELS", 0)
        return cls(
            grpc_addr=_clean(env.get("TOKENWIRE_GRPC_ADDR")) or DEFAULT_GRPC_ADDR,
            models_dir=Path(models).expanduser() if models else home / ".ollama" / "models",
            cache_dir=Path(cache).expanduser() if cache else home / ".cache" / "tokenwire",
            keep_alive_ns=parse_env_keep_alive(_clean(env.get("OLLAMA_KEEP_ALIVE"))),
            num_parallel=max(1, _int(env, "OLLAMA_NUM_PARALLEL", 4)),
            max_loaded_models=max_loaded if max_loaded > 0 else 3,
            max_queue=max(1, _int(env, "OLLAMA_MAX_QUEUE", 512)),
            context_length=max(4, _int(env, "OLLAMA_CONTEXT_LENGTH", 0) or 4096),
            num_threads=max(0, _int(env, "TOKENWIRE_NUM_THREADS", 0)),
            shutdown_grace_s=float(_int(env, "TOKENWIRE_SHUTDOWN_GRACE", 30)),
            default_model=_clean(env.get("TOKENWIRE_DEFAULT_MODEL", "smollm2:135m")),
            registry_auth=Path(auth).expanduser()
            if (auth := _clean(env.get("TOKENWIRE_REGISTRY_AUTH")))
            else None,
            ollama_key=home / ".ollama" / "id_ed25519",
            registry_part_size=max(0, _int(env, "TOKENWIRE_REGISTRY_PART_SIZE", 0)),
            registry_retries=max(0, _int(env, "TOKENWIRE_REGISTRY_RETRIES", 6)),
            registry_backoff_s=_float(env, "TOKENWIRE_REGISTRY_BACKOFF", 1.0),
        )
