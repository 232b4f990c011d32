"""What the store needs to know about a GGUF file, read with the `gguf` package."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from gguf import LlamaFileType

from server.store import gguf_reader


@dataclass(frozen=True)
class GGUFInfo:
    architecture: str
    parameter_count: int
    file_type: str  # e.g. "Q4_1", as Ollama's quantization_level
    context_length: int | None
    embedding_length: int | None
    chat_template: str | None
    bos_token: str = ""  # text of the BOS and EOS tokens, for Jinja chat templates
    eos_token: str = ""
    pooling: bool = False  # an embedding model (GGUF <arch>.pooling_type)
    vision: bool = False  # vision.block_count present
    metadata: dict = field(default_factory=dict)  # KVs; arrays over 5 items as SkippedArray
    tensors: list = field(default_factory=list)  # (name, ggml type name, dims)


def file_type_name(value: int) -> str:
    try:
        name = LlamaFileType(value).name  # e.g. MOSTLY_Q4_1, ALL_F32
    except ValueError:
        return "unknown"
    return name.split("_", 1)[1] if "_" in name else name


def human_number(n: int) -> str:
    """Ollama's format.HumanNumber, used for parameter_size ("135M", "8.0B")."""
    for limit, unit in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= limit:
            v = n / limit
            if v == int(v):
                return f"{int(v)}{unit}"
            return f"{v:.1f}{unit}" if unit == "B" else f"{v:.2f}{unit}" if unit == "M" else f"{v:.0f}{unit}"
    return str(n)


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int, size: int) -> GGUFInfo:
    try:
        gf = gguf_reader.read(path)
    except gguf_reader.GGUFFormatError as e:
        raise NotGGUF(str(e)) from None
    meta = gf.metadata
    _check_types(meta)
    arch = meta.get("general.architecture") or "unknown"
    file_type = meta.get("general.file_type")
    return GGUFInfo(
        architecture=arch,
        parameter_count=sum(math.prod(dims) for _, _, dims in gf.tensors),
        file_type=file_type_name(file_type) if file_type is not None else _guess_file_type(gf.tensors),
        context_length=meta.get(f"{arch}.context_length"),
        embedding_length=meta.get(f"{arch}.embedding_length"),
        chat_template=meta.get("tokenizer.chat_template"),
        bos_token=_token_text(path, meta, "tokenizer.ggml.bos_token_id"),
        eos_token=_token_text(path, meta, "tokenizer.ggml.eos_token_id"),
        pooling=f"{arch}.pooling_type" in meta,
        vision=any(k.startswith(("vision.", "clip.vision")) and k.endswith("block_count") for k in meta),
        metadata=meta,
        tensors=gf.tensors,
    )


def _token_text(path: Path, meta: dict, key: str) -> str:
    tokens, token_id = meta.get("tokenizer.ggml.tokens"), meta.get(key)
    if not isinstance(token_id, int):
        return ""
    if isinstance(tokens, list):
        return tokens[token_id] if 0 <= token_id < len(tokens) else ""
    if isinstance(tokens, gguf_reader.SkippedArray):
        return gguf_reader.string_item(path, tokens, token_id) or ""
    return ""


def _guess_file_type(tensors: list) -> str:
    """Without general.file_type: the type of the largest tensor."""
    if not tensors:
        return "unknown"
    return max(tensors, key=lambda t: math.prod(t[2]))[1]


class NotGGUF(ValueError):
    """The file is not a readable GGUF."""


class BadMetadata(NotGGUF):
    """A GGUF whose metadata has the wrong types for keys the store reads."""


# Keys the store and the engine read, with the types they must have. A 256-byte GGUF
# whose context_length was a string once passed create and then made every /api/tags
# answer 500.
_KEY_TYPES: dict[str, type | tuple[type, ...]] = {
    "general.architecture": str,
    "general.file_type": int,
    "general.type": str,
    "general.name": str,
    "tokenizer.chat_template": str,
    "tokenizer.ggml.bos_token_id": int,
    "tokenizer.ggml.eos_token_id": int,
}
_ARCH_KEY_TYPES: dict[str, type] = {"context_length": int, "embedding_length": int, "block_count": int}


def _check_types(meta: dict) -> None:
    arch = meta.get("general.architecture")
    wanted = dict(_KEY_TYPES)
    if isinstance(arch, str):
        wanted.update({f"{arch}.{k}": t for k, t in _ARCH_KEY_TYPES.items()})
    for key, kind in wanted.items():
        value = meta.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise BadMetadata(f"invalid GGUF metadata: {key} must be {'an' if name == 'int' else 'a'} {name}")


def read_info(path: Path) -> GGUFInfo:
    """GGUF metadata, cached per (path, mtime, size): blobs are immutable."""
    st = path.stat()
    return _read(path, st.st_mtime_ns, st.st_size)
