"""Ollama's own Go client (github.com/ollama/ollama/api, from the Go module proxy) against
the shim. It always sends "system": "", "template": "" and "suffix": "", which Ollama
reads as absent: the answers must be the ones the same requests get from ollama-python,
which omits those fields, so the chat template and the model's SYSTEM were used."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import ollama
import pytest

from tests.procs import ROOT, Proc

MODEL = "smollm2:135m"
SYSTEM = "You are a pirate. Answer every question in pirate speech."
GREEDY = {"temperature": 0, "num_predict": 12, "seed": 1}
HISTORY = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Hello Ada."},
    {"role": "user", "content": "What is my name?"},
]


@pytest.fixture(scope="module")
def go_program(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("go") / "ollamaapi"
    done = subprocess.run(
        ["go", "build", "-o", str(out), "."],
        cwd=ROOT / "tests" / "go" / "ollamaapi", capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(out)


def test_ollamas_go_client_gets_the_template_and_the_system(go_program: str, shim: Proc, shim_url: str):
    with httpx.Client(base_url=shim_url, timeout=120) as http:
        created = http.post("/api/create", json={"model": "go-pirate", "from": MODEL, "system": SYSTEM})
        assert created.status_code == 200, created.text
    env = {**os.environ, "OLLAMA_HOST": shim_url}
    done = subprocess.run(
        [go_program, MODEL, "go-pirate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    py = ollama.Client(host=shim_url)
    expected = py.generate(model=MODEL, prompt="Name a colour.", options=GREEDY).response
    assert seen["generate"] == seen["generate_streamed"] == expected
    assert (
        seen["generate_system"]
        == py.generate(model="go-pirate", prompt="Name a colour.", options=GREEDY).response
    )
    assert seen["generate_system"] != expected  # the SYSTEM made a difference
    assert seen["chat"] == py.chat(model=MODEL, messages=HISTORY, options=GREEDY).message.content
    assert seen["show_system"] == SYSTEM and seen["show_modelfile_has_system"] is True
    assert {MODEL, "go-pirate:latest"} <= set(seen["list"])
    assert seen["embed"] == [2, 576]
    assert seen["error"] == {"status": 404, "message": "model 'does-not-exist:latest' not found"}
    py.delete("go-pirate")


PORTED_GO_MOD = """module tokenwire.test/ported

go 1.26

require github.com/tokenwire/tokenwire/clients/go v0.0.0

replace github.com/tokenwire/tokenwire/clients/go => {clients_go}
"""


def test_the_same_go_program_runs_on_tokenwires_go_client(
    go_program: str, server: Proc, shim_url: str, tmp_path
):
    """tests/go/ollamaapi/main.go with one line changed, its import, runs over gRPC through
    clients/go (a replace directive) and sees what it saw through the shim."""
    source = (ROOT / "tests" / "go" / "ollamaapi" / "main.go").read_text()
    old = '"github.com/ollama/ollama/api"'
    assert source.count(old) == 1
    (tmp_path / "main.go").write_text(source.replace(old, 'api "github.com/tokenwire/tokenwire/clients/go"'))
    (tmp_path / "go.mod").write_text(PORTED_GO_MOD.format(clients_go=ROOT / "clients" / "go"))
    tidy = subprocess.run(["go", "mod", "tidy"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert tidy.returncode == 0, tidy.stderr
    built = subprocess.run(
        ["go", "build", "-o", "ported", "."], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr

    with httpx.Client(base_url=shim_url, timeout=120) as http:
        r = http.post("/api/create", json={"model": "go-pirate", "from": MODEL, "system": SYSTEM})
        assert r.status_code == 200, r.text
    try:
        runs = {}
        for name, env in (
            ("shim", {"OLLAMA_HOST": shim_url}),
            ("grpc", {"TOKENWIRE_GRPC_ADDR": server.address}),
        ):
            program = go_program if name == "shim" else str(tmp_path / "ported")
            done = subprocess.run([program, MODEL, "go-pirate"], env={**os.environ, **env},
                                  capture_output=True, text=True, timeout=300)  # fmt: skip
            assert done.returncode == 0, done.stderr
            runs[name] = json.loads(done.stdout)
        assert runs["grpc"] == runs["shim"]
        assert runs["grpc"]["error"] == {"status": 404, "message": "model 'does-not-exist:latest' not found"}
    finally:
        ollama.Client(host=shim_url).delete("go-pirate")
