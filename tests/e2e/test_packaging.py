"""The shim deploys apart from the server: `pip install ./clients/python ./rest_shim`
into an empty venv brings neither llama-cpp-python nor the server's other libraries,
and the installed shim (not this checkout) serves Ollama's API over the real server."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.procs import ROOT, Proc

SERVER_ONLY = {"llama-cpp-python", "gguf", "jinja2", "rapidfuzz", "grpcio-tools", "grpcio-reflection"}


def test_the_shim_installs_without_the_server_and_serves(server: Proc, tmp_path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    done = subprocess.run(
        [*pip, "install", "--quiet", "./clients/python", "./rest_shim"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*pip, "list", "--format=freeze"], capture_output=True, text=True, check=True)
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.split()}
    assert {"tokenwire-shim", "tokenwire-client", "fastapi", "uvicorn"} <= names
    assert not names & SERVER_ONLY, names & SERVER_ONLY
    # Started from outside the checkout, by its console script: only the installed code runs.
    env = {"TOKENWIRE_GRPC_ADDR": server.address, "OLLAMA_HOST": "127.0.0.1:0", "PATH": "/usr/bin:/bin"}
    shim = Proc(str(venv / "bin" / "tokenwire-shim"), env, "installed shim", cwd=tmp_path, module_=False)
    try:
        with httpx.Client(base_url=f"http://{shim.address}", timeout=60) as http:
            assert http.get("/api/version").json() == {"version": "0.33.0"}
            tags = http.get("/api/tags").json()
            assert "smollm2:135m" in [m["name"] for m in tags["models"]]
    finally:
        shim.stop()
