"""ollama-python's request and response types, without pydantic.

Each type allows attribute access and `["key"]` access, `in` and `.get()`, as
ollama's SubscriptableBaseModel does, so code written against ollama-python's
responses runs unchanged. Field names and their value types are ollama-python 0.6's.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, make_dataclass
from datetime import datetime
from typing import Any, ClassVar

from tokenwire_common.options import DEPRECATED_OPTIONS, OPTION_TYPES


class SubscriptableModel:
    """`obj.key`, `obj["key"]`, `"key" in obj` and `obj.get("key")`, as in ollama-python."""

    # Keys that ollama-python also accepts under another name (pydantic aliases).
    _aliases: ClassVar[dict[str, str]] = {}

    def _name(self, key: str) -> str:
        return self._aliases.get(key, key)

    def __getitem__(self, key: str) -> Any:
        name = self._name(key)
        if name in self._field_names():
            return getattr(self, name)
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._name(key), value)

    def __contains__(self, key: object) -> bool:
        # ollama: a key is "in" a model when it was set or has a non-None default.
        name = self._name(key) if isinstance(key, str) else key
        return name in self._field_names() and getattr(self, name) is not None

    def get(self, key: str, default: Any = None) -> Any:
        name = self._name(key)
        return getattr(self, name) if name in self._field_names() else default

    @classmethod
    def _field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    def model_dump(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """A plain dict, nested models included (pydantic's name for it)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _dump(getattr(self, f.name), exclude_none)
            if value is not None or not exclude_none:
                out[f.name] = value
        return out

    def model_dump_json(self, *, exclude_none: bool = False) -> str:
        return json.dumps(self.model_dump(exclude_none=exclude_none), default=str)


def _dump(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, SubscriptableModel):
        return value.model_dump(exclude_none=exclude_none)
    if isinstance(value, list | tuple):
        return [_dump(v, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, exclude_none) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ requests

_OPTION_PY = {"int": int, "float": float, "bool": bool, "list": Sequence[str]}
# ollama.Options: every option Ollama knows, each None unless set. Built from the one
# option table, so a new option appears here when it appears there.
Options = make_dataclass(
    "Options",
    [(k, _OPTION_PY[kind] | None, field(default=None)) for k, kind in OPTION_TYPES.items()]
    + [(k, Any, field(default=None)) for k in sorted(DEPRECATED_OPTIONS)],
    bases=(SubscriptableModel,),
    kw_only=True,
)
Options.__doc__ = "Runner and sampling options (ollama.Options); None means the model's default."


@dataclass(kw_only=True)
class Image(SubscriptableModel):
    """An image for a multimodal model: raw bytes, a file path, or base64 text."""

    value: str | bytes | Any


@dataclass(kw_only=True)
class Tool(SubscriptableModel):
    """A tool the model may call (ollama.Tool); `function` is the JSON function spec."""

    type: str | None = "function"
    function: Mapping[str, Any] | None = None


# ------------------------------------------------------------------ responses


@dataclass(kw_only=True)
class ModelDetails(SubscriptableModel):
    parent_model: str | None = None
    format: str | None = None
    family: str | None = None
    families: list[str] | None = None
    parameter_size: str | None = None
    quantization_level: str | None = None


@dataclass(kw_only=True)
class TokenLogprob(SubscriptableModel):
    token: str = ""
    logprob: float = 0.0


@dataclass(kw_only=True)
class Logprob(TokenLogprob):
    top_logprobs: list[TokenLogprob] | None = None


@dataclass(kw_only=True)
class _Metrics(SubscriptableModel):
    model: str | None = None
    created_at: str | None = None
    done: bool | None = None
    done_reason: str | None = None
    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None


@dataclass(kw_only=True)
class GenerateResponse(_Metrics):
    response: str | None = None
    thinking: str | None = None
    context: list[int] | None = None
    logprobs: list[Logprob] | None = None


@dataclass(kw_only=True)
class ToolCallFunction(SubscriptableModel):
    name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class ToolCall(SubscriptableModel):
    function: ToolCallFunction = field(default_factory=ToolCallFunction)


_ToolCall = ToolCall


@dataclass(kw_only=True)
class Message(SubscriptableModel):
    """A chat message (ollama.Message)."""

    ToolCall: ClassVar[type[_ToolCall]] = _ToolCall

    role: str = ""
    content: str | None = None
    thinking: str | None = None
    images: list[Any] | None = None
    tool_name: str | None = None
    tool_calls: list[_ToolCall] | None = None


@dataclass(kw_only=True)
class ChatResponse(_Metrics):
    message: Message = field(default_factory=lambda: Message(role="assistant"))
    logprobs: list[Logprob] | None = None


@dataclass(kw_only=True)
class EmbedResponse(_Metrics):
    embeddings: list[list[float]] = field(default_factory=list)


@dataclass(kw_only=True)
class EmbeddingsResponse(SubscriptableModel):
    embedding: list[float] = field(default_factory=list)


@dataclass(kw_only=True)
class ListModel(SubscriptableModel):
    model: str | None = None
    modified_at: datetime | None = None
    digest: str | None = None
    size: int | None = None
    details: ModelDetails | None = None
    # tokenwire also reports what the model can do (Ollama's /api/tags does too).
    capabilities: list[str] | None = None


@dataclass(kw_only=True)
class ListResponse(SubscriptableModel):
    Model: ClassVar[type] = ListModel

    models: list[ListModel] = field(default_factory=list)


@dataclass(kw_only=True)
class ShowResponse(SubscriptableModel):
    _aliases: ClassVar[dict[str, str]] = {"model_info": "modelinfo"}

    modified_at: datetime | None = None
    template: str | None = None
    modelfile: str | None = None
    license: str | None = None
    details: ModelDetails | None = None
    modelinfo: dict[str, Any] | None = None
    parameters: str | None = None
    capabilities: list[str] | None = None
    system: str | None = None
    projector_info: dict[str, Any] | None = None


@dataclass(kw_only=True)
class ProcessModel(SubscriptableModel):
    model: str | None = None
    name: str | None = None
    digest: str | None = None
    expires_at: datetime | None = None
    size: int | None = None
    size_vram: int | None = None
    details: ModelDetails | None = None
    context_length: int | None = None


@dataclass(kw_only=True)
class ProcessResponse(SubscriptableModel):
    Model: ClassVar[type] = ProcessModel

    models: list[ProcessModel] = field(default_factory=list)


@dataclass(kw_only=True)
class StatusResponse(SubscriptableModel):
    status: str | None = None


@dataclass(kw_only=True)
class ProgressResponse(StatusResponse):
    completed: int | None = None
    total: int | None = None
    digest: str | None = None


@dataclass(kw_only=True)
class VersionResponse(SubscriptableModel):
    version: str = ""
