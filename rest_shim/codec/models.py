"""Model management JSON <-> ModelService messages (tags, show, create, copy, delete)."""

from __future__ import annotations

from typing import Any

from rest_shim.codec import common
from rest_shim.errors import ShimError
from tokenwire.v1 import models_pb2, types_pb2
from tokenwire_common.structs import from_struct


def details_from_pb(d: types_pb2.ModelDetails) -> dict[str, Any]:
    out: dict[str, Any] = {
        "parent_model": d.parent_model,
        "format": d.format,
        "family": d.family,
        "families": list(d.families) or None,
        "parameter_size": d.parameter_size,
        "quantization_level": d.quantization_level,
    }
    if d.HasField("context_length"):
        out["context_length"] = d.context_length
    if d.HasField("embedding_length"):
        out["embedding_length"] = d.embedding_length
    return out


def list_models_response_from_pb(pb: models_pb2.ListModelsResponse) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": m.name,
                "model": m.model,
                "modified_at": common.rfc3339nano(m.modified_at),
                "size": m.size,
                "digest": m.digest,
                "details": details_from_pb(m.details),
                **({"capabilities": list(m.capabilities)} if m.capabilities else {}),
            }
            for m in pb.models
        ]
    }


def show_request_to_pb(body: dict[str, Any]) -> models_pb2.ShowModelRequest:
    common.check_types(
        body,
        "ShowRequest",
        {
            "model": "string",
            "name": "string",
            "verbose": "bool",
            "system": "string",
            "template": "string",
            "options": "any",
        },
    )
    pb = models_pb2.ShowModelRequest(
        model=body.get("model") or body.get("name") or "", verbose=bool(body.get("verbose"))
    )
    if body.get("system") is not None:
        pb.system = body["system"]
    if (opts := common.options_to_pb(body.get("options"))) is not None:
        pb.options.CopyFrom(opts)
    return pb


def show_response_from_pb(pb: models_pb2.ShowModelResponse) -> dict[str, Any]:
    # Key order and omit-empty as Ollama's ShowResponse.
    d: dict[str, Any] = {}
    for key in ("license", "modelfile", "parameters", "template", "system", "renderer", "parser"):
        if value := getattr(pb, key):
            d[key] = value
    d["details"] = details_from_pb(pb.details)
    if pb.messages:
        d["messages"] = [{"role": m.role, "content": m.content} for m in pb.messages]
    d["model_info"] = from_struct(pb.model_info)
    if pb.HasField("projector_info"):
        d["projector_info"] = from_struct(pb.projector_info)
    if pb.tensors:
        d["tensors"] = [{"name": t.name, "type": t.type, "shape": list(t.shape)} for t in pb.tensors]
    if pb.capabilities:
        d["capabilities"] = list(pb.capabilities)
    d["modified_at"] = common.rfc3339nano(pb.modified_at)
    if pb.requires:
        d["requires"] = pb.requires
    return d


def create_request_to_pb(body: dict[str, Any]) -> models_pb2.CreateModelRequest:
    common.check_types(
        body,
        "CreateRequest",
        {
            "model": "string",
            "name": "string",
            "from": "string",
            "files": "object",
            "adapters": "object",
            "template": "string",
            "system": "string",
            "parameters": "object",
            "messages": "[]object",
            "quantize": "string",
            "quantization": "string",
            "stream": "bool",
            "modelfile": "string",
            "path": "string",
            "renderer": "string",
            "parser": "string",
            "requires": "string",
            "license": "any",
        },
    )
    license = body.get("license")
    if isinstance(license, str):
        license = [license]
    elif license is not None and not (isinstance(license, list) and all(isinstance(x, str) for x in license)):
        raise ShimError(400, "json: cannot unmarshal license: must be a string or an array of strings")
    for key in ("files", "adapters"):
        if any(not isinstance(v, str) for v in (body.get(key) or {}).values()):
            raise ShimError(400, f"json: cannot unmarshal {key}: values must be digest strings")
    pb = models_pb2.CreateModelRequest(
        model=body.get("model") or body.get("name") or "",
        files=body.get("files") or {},
        adapters=body.get("adapters") or {},
        license=license or [],
        messages=[common.message_to_pb(m) for m in body.get("messages") or []],
        quantize=body.get("quantize") or body.get("quantization") or "",
        renderer=body.get("renderer") or "",
        parser=body.get("parser") or "",
        requires=body.get("requires") or "",
        modelfile=body.get("modelfile") or "",
        path=body.get("path") or "",
        **{"from": body.get("from") or ""},
    )
    if body.get("parameters"):
        pb.parameters.update(body["parameters"])
    for key in ("template", "system", "stream"):
        if body.get(key) is not None:
            setattr(pb, key, body[key])
    return pb


_TRANSFER_FIELDS = {
    "model": "string",
    "name": "string",
    "insecure": "bool",
    "username": "string",
    "password": "string",
    "stream": "bool",
}


def _transfer_request(body: dict[str, Any], struct: str, message: Any) -> Any:
    common.check_types(body, struct, _TRANSFER_FIELDS)
    pb = message(model=body.get("model") or body.get("name") or "", insecure=bool(body.get("insecure")))
    if body.get("stream") is not None:
        pb.stream = body["stream"]
    return pb


def pull_request_to_pb(body: dict[str, Any]) -> models_pb2.PullModelRequest:
    """Ollama's PullRequest (`name` is the legacy key; username/password are ignored)."""
    return _transfer_request(body, "PullRequest", models_pb2.PullModelRequest)


def push_request_to_pb(body: dict[str, Any]) -> models_pb2.PushModelRequest:
    """Ollama's PushRequest: the same fields as a pull."""
    return _transfer_request(body, "PushRequest", models_pb2.PushModelRequest)


def copy_request_to_pb(body: dict[str, Any]) -> models_pb2.CopyModelRequest:
    common.check_types(body, "CopyRequest", {"source": "string", "destination": "string"})
    return models_pb2.CopyModelRequest(
        source=body.get("source") or "", destination=body.get("destination") or ""
    )


def delete_request_to_pb(body: dict[str, Any]) -> models_pb2.DeleteModelRequest:
    common.check_types(body, "DeleteRequest", {"model": "string", "name": "string"})
    return models_pb2.DeleteModelRequest(model=body.get("model") or body.get("name") or "")


def progress_from_pb(pb: Any) -> dict[str, Any]:
    """Ollama's ProgressResponse: status, then digest/total/completed when set."""
    d: dict[str, Any] = {"status": pb.status}
    if pb.digest:
        d["digest"] = pb.digest
    if pb.total:
        d["total"] = pb.total
    if pb.completed:
        d["completed"] = pb.completed
    return d


def list_running_response_from_pb(pb: models_pb2.ListRunningModelsResponse) -> dict[str, Any]:
    # Field order of Ollama's ProcessModelResponse.
    return {
        "models": [
            {
                "name": m.name,
                "model": m.model,
                "size": m.size,
                "digest": m.digest,
                "details": details_from_pb(m.details),
                "expires_at": common.rfc3339nano(m.expires_at),
                "size_vram": m.size_vram,
                "context_length": m.context_length,
            }
            for m in pb.models
        ]
    }
