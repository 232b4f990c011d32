"""Resolve options: server defaults < the model's params layer < request options (reference §2)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from server import limits
from server.engine.types import LoadOptions, SamplingParams
from server.errors import InvalidArgument
from server.settings import Settings
from tokenwire.v1 import types_pb2
from tokenwire_common.options import keys_of

_INT = keys_of("int")
_FLOAT = keys_of("float")
_SAMPLING = {f.name for f in fields(SamplingParams)}


def _coerce(key: str, value: Any) -> Any:
    """Type-check a params-layer value the way Ollama's FromMap does."""
    if key == "stop":
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidArgument(f'option "{key}" must be of type array')
        return list(value)
    if key in _INT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(f'option "{key}" must be of type integer')
        limits.check_option(key, value)
        return int(value)
    if key in _FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(f'option "{key}" must be of type float32')
        limits.check_option(key, value)
        return float(value)
    return value


def sampling_params(model_params: dict[str, Any], request: types_pb2.Options | None) -> SamplingParams:
    p = SamplingParams()
    for key, value in model_params.items():
        if key in _SAMPLING:  # unknown and runner keys are ignored here, as in Ollama
            setattr(p, key, _coerce(key, value))
    if request is not None:
        for desc, value in request.ListFields():
            if desc.name == "stop":
                p.stop = list(value)
            elif desc.name in _SAMPLING:
                limits.check_option(desc.name, value)
                setattr(p, desc.name, value)
    return p


def check_params(params: dict[str, Any]) -> None:
    """A Modelfile's PARAMETERs, checked at create as a request's options are at run."""
    for key, value in params.items():
        _coerce(key, value)


def load_options(
    settings: Settings, model_params: dict[str, Any], request: types_pb2.Options | None
) -> LoadOptions:
    def pick(key: str, default: int) -> int:
        if request is not None and request.HasField(key):
            value = int(getattr(request, key))
            limits.check_option(key, value)
            return value
        if key in model_params:
            return _coerce(key, model_params[key])
        return default

    num_ctx = max(limits.MIN_NUM_CTX, pick("num_ctx", settings.context_length))
    return LoadOptions(
        num_ctx=num_ctx,
        num_batch=limits.num_batch(pick("num_batch", 512), settings.num_parallel, num_ctx),
        num_parallel=settings.num_parallel,
        num_thread=limits.num_thread(pick("num_thread", settings.num_threads)),
    )
