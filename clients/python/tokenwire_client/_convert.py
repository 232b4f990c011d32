"""ollama-python arguments -> tokenwire.v1 requests, and responses -> ollama's types.

Pure: no I/O except reading an image or blob file a caller named by path. Values take
the forms ollama-python accepts (keep_alive seconds or "5m", format "json" or a schema,
think bool or level, options as a dict or Options, images as bytes, paths or base64).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from tokenwire.v1 import inference_pb2, models_pb2, types_pb2
from tokenwire_client import _types as t
from tokenwire_client._errors import RequestError
from tokenwire_common.duration import DurationError, keep_alive_from_json
from tokenwire_common.options import OPTION_TYPES
from tokenwire_common.structs import from_struct, to_struct

# ------------------------------------------------------------------ request pieces


def options(value: Mapping[str, Any] | t.SubscriptableModel | None) -> types_pb2.Options | None:
    if value is None:
        return None
    items = value.model_dump(exclude_none=True) if isinstance(value, t.SubscriptableModel) else value
    pb = types_pb2.Options()
    for key, v in dict(items).items():
        kind = OPTION_TYPES.get(key)
        if kind is None or v is None:
            continue  # unknown and deprecated keys are ignored, as Ollama does
        try:
            if kind == "list":
                pb.stop.extend([v] if isinstance(v, str) else list(v))
            else:
                setattr(pb, key, {"int": int, "float": float, "bool": bool}[kind](v))
        except (TypeError, ValueError, OverflowError) as e:
            raise RequestError(f'option "{key}": {e}') from None
    return pb


def format_(value: Any) -> types_pb2.Format | None:
    if value is None or value == "":
        return None
    if value == "json":
        return types_pb2.Format(json=True)
    if isinstance(value, Mapping):
        return types_pb2.Format(schema=to_struct(value))
    raise RequestError(f'invalid format: "{value}"; expected "json" or a valid JSON Schema object')


_THINK = {
    "low": types_pb2.THINK_LEVEL_LOW,
    "medium": types_pb2.THINK_LEVEL_MEDIUM,
    "high": types_pb2.THINK_LEVEL_HIGH,
    "max": types_pb2.THINK_LEVEL_MAX,
}


def think(value: bool | str | None) -> types_pb2.Think | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return types_pb2.Think(enabled=value)
    if value in _THINK:
        return types_pb2.Think(level=_THINK[value])
    raise RequestError(
        f'invalid think value: "{value}" (must be "high", "medium", "low", "max", true, or false)'
    )


def keep_alive(request: Any, value: float | str | None) -> None:
    """Seconds (a number) or a Go duration ("5m", "-1"); negative means forever."""
    if value is None:
        return
    try:
        request.keep_alive.FromNanoseconds(keep_alive_from_json(value))
    except DurationError as e:
        raise RequestError(str(e)) from None


def image(value: Any) -> bytes:
    """ollama-python's Image rules: bytes as is, an existing path read, else base64."""
    if isinstance(value, t.Image):
        value = value.value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, Path):
        return value.read_bytes()
    if isinstance(value, str):
        try:
            if len(value) < 4096 and Path(value).is_file():
                return Path(value).read_bytes()
        except OSError:
            pass
        if value.rsplit(".", 1)[-1].lower() in ("png", "jpg", "jpeg", "webp"):
            raise RequestError(f"File {value} does not exist")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError("Invalid image data, expected base64 string or path to image file") from None
    raise RequestError(f"Invalid image type: {type(value).__name__}")


def message(value: Mapping[str, Any] | t.Message) -> types_pb2.Message:
    m = value.model_dump() if isinstance(value, t.SubscriptableModel) else dict(value)
    pb = types_pb2.Message(
        role=m.get("role") or "",
        content=m.get("content") or "",
        thinking=m.get("thinking") or "",
        tool_name=m.get("tool_name") or "",
        tool_call_id=m.get("tool_call_id") or "",
    )
    pb.images.extend(image(i) for i in m.get("images") or ())
    for call in m.get("tool_calls") or ():
        fn = call.get("function") or {}
        function = types_pb2.ToolCallFunction(
            index=fn.get("index") or 0,
            name=fn.get("name") or "",
            arguments=to_struct(fn.get("arguments") or {}),
        )
        pb.tool_calls.add(id=call.get("id") or "", function=function)
    return pb


def tool(value: Mapping[str, Any] | t.Tool | Callable[..., Any]) -> types_pb2.Tool:
    if callable(value) and not isinstance(value, Mapping | t.SubscriptableModel):
        value = function_tool(value)
    d = value.model_dump(exclude_none=True) if isinstance(value, t.SubscriptableModel) else dict(value)
    fn = dict(d.get("function") or {})
    pb = types_pb2.Tool(
        type=d.get("type") or "function",
        function=types_pb2.ToolFunction(name=fn.get("name") or "", description=fn.get("description") or ""),
    )
    if fn.get("parameters") is not None:
        pb.function.parameters.CopyFrom(to_struct(fn["parameters"]))
    if d.get("items") is not None:
        pb.items.CopyFrom(to_struct(d["items"]))
    return pb


_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean", list: "array", dict: "object"}


def function_tool(fn: Callable[..., Any]) -> dict[str, Any]:
    """A Python function as a tool, as ollama-python converts one: the docstring's first
    paragraph describes it, its Google-style `Args:` section describes the parameters,
    and the annotations give their JSON types."""
    doc = inspect.getdoc(fn) or ""
    description = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    arg_docs: dict[str, str] = {}
    section = re.search(r"^Args:\s*\n((?:[ \t]+.*\n?)+)", doc, re.M)
    for line in (section.group(1) if section else "").splitlines():
        m = re.match(r"\s*(\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)", line)
        if m:
            arg_docs[m.group(1)] = m.group(2).strip()
    properties: dict[str, Any] = {}
    required = []
    try:
        hints = typing.get_type_hints(fn)  # resolves string annotations (PEP 563)
    except (NameError, TypeError):
        hints = {}
    for name, param in inspect.signature(fn).parameters.items():
        hint = hints.get(name, param.annotation)
        origin = typing.get_origin(hint) or hint
        properties[name] = {"type": _JSON_TYPES.get(origin, "string"), "description": arg_docs.get(name, "")}
        if param.default is inspect.Parameter.empty:
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": fn.__name__,
            "description": description,
            "parameters": {"type": "object", "required": required, "properties": properties},
        },
    }


def _set_optional(pb: Any, **values: Any) -> None:
    for key, value in values.items():
        if value is not None:
            setattr(pb, key, value)


# ------------------------------------------------------------------ requests


def generate_request(
    model: str,
    prompt: str | None,
    suffix: str | None,
    *,
    system: str | None,
    template: str | None,
    context: Sequence[int] | None,
    stream: bool,
    think_: bool | str | None,
    logprobs: bool | None,
    top_logprobs: int | None,
    raw: bool | None,
    format: Any,
    images: Sequence[Any] | None,
    options_: Any,
    keep_alive_: float | str | None,
) -> inference_pb2.GenerateRequest:
    pb = inference_pb2.GenerateRequest(model=model, stream=stream)
    _set_optional(
        pb, prompt=prompt, suffix=suffix, system=system, template=template, raw=raw,
        logprobs=logprobs, top_logprobs=top_logprobs,
    )  # fmt: skip
    pb.context.extend(context or ())
    pb.images.extend(image(i) for i in images or ())
    _set_message(pb, format=format_(format), think=think(think_), options=options(options_))
    keep_alive(pb, keep_alive_)
    return pb


def chat_request(
    model: str,
    messages: Iterable[Any] | None,
    *,
    tools: Iterable[Any] | None,
    stream: bool,
    think_: bool | str | None,
    logprobs: bool | None,
    top_logprobs: int | None,
    format: Any,
    options_: Any,
    keep_alive_: float | str | None,
) -> inference_pb2.ChatRequest:
    pb = inference_pb2.ChatRequest(model=model, stream=stream)
    _set_optional(pb, logprobs=logprobs, top_logprobs=top_logprobs)
    pb.messages.extend(message(m) for m in messages or ())
    pb.tools.extend(tool(x) for x in tools or ())
    _set_message(pb, format=format_(format), think=think(think_), options=options(options_))
    keep_alive(pb, keep_alive_)
    return pb


def embed_request(
    model: str,
    input: str | Sequence[str],
    truncate: bool | None,
    options_: Any,
    keep_alive_: Any,
    dimensions: int | None,
) -> inference_pb2.EmbedRequest:
    pb = inference_pb2.EmbedRequest(model=model)
    pb.input.extend([input] if isinstance(input, str) else list(input))
    _set_optional(pb, truncate=truncate, dimensions=dimensions)
    _set_message(pb, options=options(options_))
    keep_alive(pb, keep_alive_)
    return pb


def embeddings_request(
    model: str, prompt: str | None, options_: Any, keep_alive_: Any
) -> inference_pb2.EmbeddingsRequest:
    pb = inference_pb2.EmbeddingsRequest(model=model, prompt=prompt or "")
    _set_message(pb, options=options(options_))
    keep_alive(pb, keep_alive_)
    return pb


def create_request(
    model: str,
    quantize: str | None,
    from_: str | None,
    files: Mapping[str, str] | None,
    adapters: Mapping[str, str] | None,
    template: str | None,
    license: str | Sequence[str] | None,
    system: str | None,
    parameters: Any,
    messages: Iterable[Any] | None,
    stream: bool,
) -> models_pb2.CreateModelRequest:
    pb = models_pb2.CreateModelRequest(model=model, stream=stream, quantize=quantize or "")
    setattr(pb, "from", from_ or "")  # `from` is a Python keyword
    pb.files.update(files or {})
    pb.adapters.update(adapters or {})
    _set_optional(pb, template=template, system=system)
    pb.license.extend([license] if isinstance(license, str) else list(license or ()))
    if parameters is not None:
        if isinstance(parameters, t.SubscriptableModel):
            parameters = parameters.model_dump(exclude_none=True)
        pb.parameters.CopyFrom(to_struct(parameters))
    pb.messages.extend(message(m) for m in messages or ())
    return pb


def _set_message(pb: Any, **values: Any) -> None:
    for key, value in values.items():
        if value is not None:
            getattr(pb, key).CopyFrom(value)


# ------------------------------------------------------------------ responses

_DONE = {
    types_pb2.DONE_REASON_STOP: "stop",
    types_pb2.DONE_REASON_LENGTH: "length",
    types_pb2.DONE_REASON_LOAD: "load",
    types_pb2.DONE_REASON_UNLOAD: "unload",
}


def _created(ts: Timestamp) -> str | None:
    return ts.ToJsonString() if ts.seconds or ts.nanos else None


def _when(pb: Any, name: str) -> Any:
    return getattr(pb, name).ToDatetime(tzinfo=UTC) if pb.HasField(name) else None


def _metrics(pb: Any) -> dict[str, Any]:
    """Ollama's final-chunk fields: present only when done, as its JSON omits them."""
    out: dict[str, Any] = {"model": pb.model, "created_at": _created(pb.created_at), "done": pb.done}
    if pb.done:
        out["done_reason"] = _DONE.get(pb.done_reason)
        for key in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration"):
            out[key] = getattr(pb, key)
        out["eval_count"] = pb.eval_count
        out["eval_duration"] = pb.eval_duration
    return out


def _logprobs(items: Any) -> list[t.Logprob] | None:
    if not items:
        return None
    return [
        t.Logprob(
            token=x.token,
            logprob=x.logprob,
            top_logprobs=[t.TokenLogprob(token=y.token, logprob=y.logprob) for y in x.top_logprobs] or None,
        )
        for x in items
    ]


def generate_response(pb: inference_pb2.GenerateResponse) -> t.GenerateResponse:
    return t.GenerateResponse(
        **_metrics(pb),
        response=pb.response,
        thinking=pb.thinking or None,
        context=list(pb.context) or None,
        logprobs=_logprobs(pb.logprobs),
    )


def message_response(m: types_pb2.Message) -> t.Message:
    calls = [
        t.ToolCall(
            function=t.ToolCallFunction(name=x.function.name, arguments=from_struct(x.function.arguments))
        )
        for x in m.tool_calls
    ]
    return t.Message(
        role=m.role,
        content=m.content,
        thinking=m.thinking or None,
        images=list(m.images) or None,
        tool_name=m.tool_name or None,
        tool_calls=calls or None,
    )


def chat_response(pb: inference_pb2.ChatResponse) -> t.ChatResponse:
    message = message_response(pb.message)
    return t.ChatResponse(**_metrics(pb), message=message, logprobs=_logprobs(pb.logprobs))


def embed_response(pb: inference_pb2.EmbedResponse) -> t.EmbedResponse:
    return t.EmbedResponse(
        model=pb.model,
        embeddings=[list(e.values) for e in pb.embeddings],
        total_duration=pb.total_duration,
        load_duration=pb.load_duration,
        prompt_eval_count=pb.prompt_eval_count,
    )


def embeddings_response(pb: inference_pb2.EmbeddingsResponse) -> t.EmbeddingsResponse:
    return t.EmbeddingsResponse(embedding=list(pb.embedding))


def details(d: types_pb2.ModelDetails) -> t.ModelDetails:
    return t.ModelDetails(
        parent_model=d.parent_model,
        format=d.format,
        family=d.family,
        families=list(d.families) or None,
        parameter_size=d.parameter_size,
        quantization_level=d.quantization_level,
    )


def list_response(pb: models_pb2.ListModelsResponse) -> t.ListResponse:
    return t.ListResponse(
        models=[
            t.ListModel(
                model=m.model,
                modified_at=_when(m, "modified_at"),
                digest=m.digest,
                size=m.size,
                details=details(m.details),
                capabilities=list(m.capabilities) or None,
            )
            for m in pb.models
        ]
    )


def show_response(pb: models_pb2.ShowModelResponse) -> t.ShowResponse:
    return t.ShowResponse(
        modified_at=_when(pb, "modified_at"),
        template=pb.template,
        modelfile=pb.modelfile,
        license=pb.license or None,
        details=details(pb.details),
        modelinfo=from_struct(pb.model_info),
        parameters=pb.parameters or None,
        capabilities=list(pb.capabilities) or None,
        system=pb.system or None,
        projector_info=from_struct(pb.projector_info) if pb.HasField("projector_info") else None,
    )


def process_response(pb: models_pb2.ListRunningModelsResponse) -> t.ProcessResponse:
    return t.ProcessResponse(
        models=[
            t.ProcessModel(
                model=m.model,
                name=m.name,
                digest=m.digest,
                expires_at=_when(m, "expires_at"),
                size=m.size,
                size_vram=m.size_vram,
                details=details(m.details),
                context_length=m.context_length,
            )
            for m in pb.models
        ]
    )


def progress_response(pb: Any) -> t.ProgressResponse:
    return t.ProgressResponse(
        status=pb.status, digest=pb.digest or None, total=pb.total or None, completed=pb.completed or None
    )
