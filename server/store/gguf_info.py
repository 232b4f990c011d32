"""What the store needs to know about a GGUF file, read with the `gguf` package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gguf import GGUFReader, LlamaFileType


@dataclass(frozen=True)
class GGUFInfo:
    architecture: str
    parameter_count: int
    file_type: str  # e.g. "Q4_1", as Ollama's quantization_level
    context_length: int | None
    embedding_length: int | None
    chat_template: str | None


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


def read_info(path: Path) -> GGUFInfo:
    reader = GGUFReader(path)

    def value(key: str):
        field = reader.fields.get(key)
        return field.contents() if field is not None else None

    arch = value("general.architecture") or "unknown"
    file_type = value("general.file_type")
    return GGUFInfo(
        architecture=arch,
        parameter_count=sum(int(t.n_elements) for t in reader.tensors),
        file_type=file_type_name(file_type) if file_type is not None else "unknown",
        context_length=value(f"{arch}.context_length"),
        embedding_length=value(f"{arch}.embedding_length"),
        chat_template=value("tokenizer.chat_template"),
    )
