"""`pip install ./clients/python` into an empty venv: grpcio and protobuf only, and it streams."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.procs import ROOT, Proc

# What the client may bring: itself, its two dependencies, and grpcio's one dependency.
ALLOWED = {"tokenwire-client", "grpcio", "protobuf", "typing-extensions", "pip", "setuptools"}
STREAM = """
import sys, tokenwire_client
parts = list(tokenwire_client.Client(host=sys.argv[1]).generate(
    "smollm2:135m", "Hello", stream=True, options={"num_predict": 4}))
print(len(parts), parts[-1].done, parts[-1].done_reason)
"""


def test_the_client_installs_alone_and_streams(conformance_server: Proc, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    done = subprocess.run(
        [*pip, "install", "--quiet", "--disable-pip-version-check", "./clients/python"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*pip, "list", "--format=freeze"], capture_output=True, text=True, check=True)
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.stdout.split()}
    assert "llama-cpp-python" not in names and "fastapi" not in names and "grpcio-tools" not in names
    assert names <= ALLOWED, names - ALLOWED
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", STREAM, conformance_server.address],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    count, done_flag, reason = out.stdout.split()
    assert int(count) >= 2 and done_flag == "True" and reason in ("stop", "length")
