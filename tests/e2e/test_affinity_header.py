"""Every client sends the model in x-tokenwire-model, as a proxy that routes by model
needs: the Python, Go, Node and Java clients make calls about a model through a real
nginx (deploy/nginx's file, one replica), whose access log records the header of each."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import tokenwire_client
from tests.client_builds import java_classpath, javac, node_build, run
from tests.procs import ROOT, Proc
from tests.proxies import Proxy

MODEL = "smollm2:135m"
CALLS = {"InferenceService/Generate", "ModelService/ShowModel", "InferenceService/Embed"}


@pytest.fixture(scope="module")
def nginx(server: Proc, tmp_path_factory) -> Iterator[Proxy]:
    proxy = Proxy("nginx", tmp_path_factory.mktemp("nginx"), [server.address])
    yield proxy
    proxy.stop()


def _headers_since(proxy: Proxy, mark: int) -> dict[str, set[str]]:
    """RPC -> the model headers nginx saw, for the log lines after `mark`."""
    time.sleep(0.3)  # nginx writes the line when the request ends
    seen: dict[str, set[str]] = {}
    for line in proxy.log.read_text().splitlines()[mark:]:
        if m := re.search(r"/tokenwire\.v1\.(\w+/\w+) .*model=(\S*)", line):
            seen.setdefault(m.group(1), set()).add(m.group(2))
    return seen


def _mark(proxy: Proxy) -> int:
    return len(proxy.log.read_text().splitlines()) if proxy.log.exists() else 0


def _check(proxy: Proxy, mark: int) -> None:
    seen = _headers_since(proxy, mark)
    for rpc in CALLS:
        assert seen.get(rpc) == {MODEL}, (rpc, seen)


def test_python(nginx: Proxy):
    mark = _mark(nginx)
    client = tokenwire_client.Client(host=nginx.address)
    client.generate(model=MODEL, prompt="hi", options={"num_predict": 1})
    client.show(MODEL)
    client.embed(model=MODEL, input="hi")
    client.copy(MODEL, "affinity-copy")
    client.delete("affinity-copy")
    _check(nginx, mark)
    seen = _headers_since(nginx, mark)
    assert seen["ModelService/CopyModel"] == {MODEL} and seen["ModelService/DeleteModel"] == {"affinity-copy"}
    assert seen.get("ModelService/ListModels", {"-"}) == {"-"}  # no model, no header


def test_go(nginx: Proxy, tmp_path: Path):
    mark = _mark(nginx)
    program = ROOT / "tests" / "go" / "affinity"
    run(["go", "build", "-o", str(tmp_path / "affinity"), "."], cwd=program)
    run([str(tmp_path / "affinity"), MODEL], env={**os.environ, "TOKENWIRE_GRPC_ADDR": nginx.address})
    _check(nginx, mark)


def test_node(nginx: Proxy):
    mark = _mark(nginx)
    node_build()
    script = (
        "const { Ollama } = require(process.argv[1]);"
        "(async () => { const o = new Ollama({ host: process.argv[2] });"
        f"await o.generate({{ model: '{MODEL}', prompt: 'hi', options: {{ num_predict: 1 }} }});"
        f"await o.show({{ model: '{MODEL}' }}); await o.embed({{ model: '{MODEL}', input: 'hi' }});"
        "o.close(); })().catch((e) => { console.error(e); process.exit(1); });"
    )
    dist = ROOT / "clients" / "node" / "dist" / "src"
    subprocess.run(["node", "-e", script, str(dist), nginx.address], check=True, timeout=120)
    _check(nginx, mark)


def test_java(nginx: Proxy, tmp_path: Path):
    mark = _mark(nginx)
    classpath = javac(
        ROOT / "tests" / "java" / "outside" / "Main.java", java_classpath(tmp_path), tmp_path / "out"
    )
    run(["java", "-cp", classpath, "Main", MODEL], env={**os.environ, "TOKENWIRE_GRPC_ADDR": nginx.address})
    seen = _headers_since(nginx, mark)
    assert seen["InferenceService/Generate"] == {MODEL}
    assert seen["ModelService/ShowModel"] == {"does-not-exist"}  # the program's not-found call
