"""Ollama's option keys and their types (api.Options, reference §2): the one table.

Kinds: int (JSON floats are truncated), float, bool, list (array of strings).
"""

from __future__ import annotations

OPTION_TYPES: dict[str, str] = {
    "num_keep": "int",
    "seed": "int",
    "num_predict": "int",
    "top_k": "int",
    "top_p": "float",
    "min_p": "float",
    "typical_p": "float",
    "repeat_last_n": "int",
    "temperature": "float",
    "repeat_penalty": "float",
    "presence_penalty": "float",
    "frequency_penalty": "float",
    "stop": "list",
    "mirostat": "int",
    "mirostat_tau": "float",
    "mirostat_eta": "float",
    # Runner options: fixed when the model loads.
    "num_ctx": "int",
    "num_batch": "int",
    "num_gpu": "int",
    "main_gpu": "int",
    "use_mmap": "bool",
    "num_thread": "int",
    "draft_num_predict": "int",
}

# Removed from Ollama and silently ignored (its CLI warns "parameter X is deprecated").
DEPRECATED_OPTIONS = frozenset(
    {"penalize_newline", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock", "numa", "tfs_z"}
)


def keys_of(kind: str) -> frozenset[str]:
    return frozenset(k for k, v in OPTION_TYPES.items() if v == kind)
