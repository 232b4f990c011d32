"""`tokenwire list`, `ps`, `show`, `cp`, `rm`, `stop`, `status` and `--version`: what
`ollama` prints for each, from gRPC answers. Each returns the process's exit code."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import json_format

import tokenwire_client
from tokenwire.v1 import models_pb2, models_pb2_grpc, status_pb2, status_pb2_grpc
from tokenwire_client._errors import from_rpc_error
from tokenwire_client.cli import format as fmt
from tokenwire_common.structs import from_struct


def _epoch(dt: datetime | None) -> float:
    return dt.timestamp() if dt is not None else 0.0


def list_models(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    models = c.list().models
    if args.json:
        print(json.dumps([m.model_dump() for m in models], default=str, indent=2))
        return 0
    rows = [
        [
            m.model or "",
            (m.digest or "")[:12],
            fmt.human_bytes(m.size or 0),
            fmt.human_time(_epoch(m.modified_at)),
        ]
        for m in models
    ]
    print(fmt.table(["NAME", "ID", "SIZE", "MODIFIED"], rows))
    return 0


def _until(expires: float, now: float) -> str:
    if expires and expires < now:
        return "Stopping..."
    return fmt.human_time(expires, now)


def ps(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    models = c.ps().models
    if args.json:
        print(json.dumps([m.model_dump() for m in models], default=str, indent=2))
        return 0
    now = time.time()
    rows = []
    for m in models:
        size, vram = m.size or 0, m.size_vram or 0
        gpu = round(100 * vram / size) if size else 0
        processor = "100% CPU" if gpu == 0 else "100% GPU" if gpu == 100 else f"{100 - gpu}%/{gpu}% CPU/GPU"
        rows.append([m.name or m.model or "", (m.digest or "")[:12], fmt.human_bytes(size), processor,
                     str(m.context_length or ""), _until(_epoch(m.expires_at), now)])  # fmt: skip
    print(fmt.table(["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], rows))
    return 0


def show_info(c: tokenwire_client.Client, model: str, verbose: bool = False) -> dict[str, Any]:
    """ShowModel as a dict of Ollama's names (with the tensors ollama-python leaves out)."""
    stub = models_pb2_grpc.ModelServiceStub(c.channel)
    try:
        reply = stub.ShowModel(models_pb2.ShowModelRequest(model=model, verbose=verbose))
    except grpc.RpcError as e:  # the client's own error types, as its other calls raise
        raise from_rpc_error(e) from None
    info = json_format.MessageToDict(
        reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    info["model_info"] = from_struct(reply.model_info) if reply.HasField("model_info") else {}
    return info


def show(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    info = show_info(c, args.model, args.verbose)
    for flag in ("modelfile", "parameters", "template", "system", "license"):
        if getattr(args, flag):
            print(info.get(flag) or "")
            return 0
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(fmt.show(info, verbose=args.verbose))
    return 0


def copy(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    c.copy(args.source, args.destination)
    print(f"copied '{args.source}' to '{args.destination}'")
    return 0


def remove(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    for name in args.models:
        c.delete(name)
        print(f"deleted '{name}'")
    return 0


def stop(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    """Unload now (keep_alive 0); a model that is in the store but not loaded is no error."""
    try:
        c.generate(model=args.model, prompt="", keep_alive=0)
    except tokenwire_client.NotFoundError:
        print(f'Error: couldn\'t find model "{args.model}" to stop', file=sys.stderr)
        return 1
    return 0


def version(c: tokenwire_client.Client) -> int:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        mine = dist_version("tokenwire-client")
    except PackageNotFoundError:
        mine = "0.0.0"
    try:
        print(f"tokenwire version is {c.version().version}")
    except tokenwire_client.ResponseError:
        print("Warning: could not connect to a running tokenwire server")
    print(f"client version is {mine}")
    return 0


def status(c: tokenwire_client.Client, args: argparse.Namespace) -> int:
    """Beyond `ollama`: each loaded model's slots, queue and KV cache, from GetLoad."""
    load = status_pb2_grpc.StatusServiceStub(c.channel).GetLoad(status_pb2.GetLoadRequest(), timeout=30)
    if args.json:
        print(json_format.MessageToJson(load, preserving_proto_field_name=True, indent=2))
        return 0
    rows = [_load_row(m) for m in load.loaded]
    print(fmt.table(["NAME", "SLOTS", "WAITING", "KV CACHE", "IDLE"], rows))
    state = "draining" if load.draining else "serving"
    waiting = f"{load.requests_waiting} waiting of {load.max_queue}"
    print(f"\n{state}; {waiting}; {len(load.available)} models in the store")
    return 0


def _load_row(m: status_pb2.ModelLoad) -> list[str]:
    idle = "busy" if m.slots_busy else fmt.human_duration(m.idle.ToNanoseconds() / 1e9)
    return [
        m.model,
        f"{m.slots_busy}/{m.slots_total}",
        str(m.requests_waiting),
        f"{100 * m.kv_cache_usage:.0f}%",
        idle,
    ]
