"""The contract as other languages and grpcurl users meet it.

- grpcurl sends keep_alive as a duration string and reads done_reason by name.
- protoc compiles the protos for Go (go_package), Java (one class per message in
  dev.tokenwire.v1) and C# (Tokenwire.V1) with the options written in the files.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime
from pathlib import Path

import grpc_tools

from server.settings import Settings
from tests.procs import ROOT

MODEL = "smollm2:135m"
BIN = Settings.from_env().cache_dir / "bin"
GRPCURL = BIN / "grpcurl-v1.9.3"
PROTOC = BIN / "protoc-4.36.2"  # Maven Central's protoc: grpcio-tools has no Java or C# generator
PROTOC_GEN_GO = BIN / "protoc-gen-go-v1.36.12"
GENERATE = "tokenwire.v1.InferenceService/Generate"
PROTOS = sorted(
    str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto" / "tokenwire" / "v1").glob("*.proto")
)


def _grpcurl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRPCURL), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def _messages(text: str) -> list[dict]:
    """grpcurl prints one indented JSON object per streamed message."""
    decoder, out, pos = json.JSONDecoder(), [], 0
    while pos < len(text.rstrip()):
        obj, end = decoder.raw_decode(text, pos)
        out.append(obj)
        pos = end + 1
    return out


def _expires_in(server) -> float:
    ps = _grpcurl("-plaintext", server.address, "tokenwire.v1.ModelService/ListRunningModels")
    assert ps.returncode == 0, ps.stderr
    loaded = {m["name"]: m for m in json.loads(ps.stdout)["models"]}
    return datetime.fromisoformat(loaded[MODEL]["expires_at"]).timestamp() - time.time()


def test_grpcurl_sends_a_duration_and_reads_done_reason_by_name(server):
    # Proto JSON's form ("300s") and Ollama's ("5m", which grpcurl parses as Go does).
    for keep_alive, seconds in (("300s", 300), ("2m", 120)):
        body = {"model": MODEL, "prompt": "Hello", "keep_alive": keep_alive, "options": {"num_predict": 3}}
        out = _grpcurl("-plaintext", "-d", json.dumps(body), server.address, GENERATE)
        assert out.returncode == 0, out.stderr
        last = _messages(out.stdout)[-1]
        assert last["done"] is True
        assert last["done_reason"] in ("DONE_REASON_LENGTH", "DONE_REASON_STOP")
        assert seconds - 60 < _expires_in(server) <= seconds  # what it was given, not the default


def _protoc(*flags: str) -> None:
    include = Path(grpc_tools.__file__).parent / "_proto"  # the well-known types
    done = subprocess.run(
        [str(PROTOC), f"-I{ROOT / 'proto'}", f"-I{include}", *flags, *PROTOS], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_java_and_csharp_get_their_packages(tmp_path):
    (tmp_path / "java").mkdir()
    (tmp_path / "cs").mkdir()
    _protoc(f"--java_out={tmp_path / 'java'}", f"--csharp_out={tmp_path / 'cs'}")
    java = tmp_path / "java" / "dev" / "tokenwire" / "v1"
    # java_multiple_files: one top-level class per message, not nested in an outer class.
    assert (java / "GenerateRequest.java").is_file() and (java / "Options.java").is_file()
    assert "package dev.tokenwire.v1;" in (java / "GenerateRequest.java").read_text()
    assert (java / "InferenceProto.java").is_file()
    assert "namespace Tokenwire.V1" in (tmp_path / "cs" / "Inference.cs").read_text()


def test_go_gets_its_import_path(tmp_path):
    _protoc(f"--plugin=protoc-gen-go={PROTOC_GEN_GO}", f"--go_out={tmp_path}")
    out = tmp_path / "github.com" / "tokenwire" / "tokenwire" / "clients" / "go" / "tokenwirepb" / "v1"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["inference.pb.go", "models.pb.go", "status.pb.go", "types.pb.go"]
    assert "package tokenwirev1" in (out / "inference.pb.go").read_text()
    assert "durationpb.Duration" in (out / "inference.pb.go").read_text()  # keep_alive is a Duration


def test_the_committed_go_stubs_are_current(tmp_path):
    """Go modules commit their generated code: clients/go/tokenwirepb/v1 must be what
    scripts/gen_go.sh makes of today's protos (run `make proto-go` after a change)."""
    done = subprocess.run(
        ["bash", "scripts/gen_go.sh", str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    fresh = tmp_path / "tokenwirepb" / "v1"
    committed = ROOT / "clients" / "go" / "tokenwirepb" / "v1"
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.glob("*.go"))
    for name in names:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"{name} is stale: make proto-go"
        )
