"""A program written for ollama-python runs on tokenwire_client with only the import
and the host changed (clients/python/tests/ollama_program.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.procs import Proc, start_shim

PROGRAM = (Path(__file__).parent / "ollama_program.py").read_text()
IMPORT, HOST = "import ollama\n", 'HOST = "http://localhost:11434"\n'


def run(source: str, tmp_path: Path) -> dict:
    path = tmp_path / "program.py"
    path.write_text(source)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_same_program_runs_on_ollama_and_on_tokenwire_client(
    conformance_server: Proc, tmp_path: Path
) -> None:
    assert PROGRAM.count(IMPORT) == 1 and PROGRAM.count(HOST) == 1
    shim = start_shim(conformance_server.address)
    try:
        through_ollama = run(PROGRAM.replace(HOST, f'HOST = "http://{shim.address}"\n'), tmp_path)
    finally:
        shim.stop()
    ported = PROGRAM.replace(IMPORT, "import tokenwire_client as ollama\n").replace(
        HOST, f'HOST = "{conformance_server.address}"\n'
    )
    through_grpc = run(ported, tmp_path)

    assert through_grpc == through_ollama
    assert through_grpc["generate"]["done"] is True
    assert through_grpc["generate"]["done_reason"] in ("stop", "length")
    assert through_grpc["chat"] == {"role": "assistant", "content_type": "str"}
    assert through_grpc["embed"] == {"count": 2, "dimension": 576}
    assert "smollm2:135m" in through_grpc["list"]
    assert through_grpc["show"] == {"family": "llama", "architecture": "llama"}
    assert through_grpc["create"] == {"status": "success", "listed": True, "gone": True}
    assert through_grpc["missing"] == {"status_code": 404, "error": "model 'does-not-exist' not found"}
