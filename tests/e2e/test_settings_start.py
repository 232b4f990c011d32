"""A setting that cannot be used stops the process at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.procs import ROOT


def _start(module: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_value_stops_the_server_and_the_shim_with_its_name(tmp_path):
    out = _start("server", OLLAMA_MODELS=str(tmp_path), OLLAMA_NUM_PARALLEL="lots")
    assert out.returncode != 0
    assert "tokenwire server: OLLAMA_NUM_PARALLEL='lots': not an integer" in out.stderr
    out = _start("rest_shim", OLLAMA_HOST="127.0.0.1:0", TOKENWIRE_MAX_BODY_BYTES="-3")
    assert out.returncode != 0
    assert "tokenwire shim: TOKENWIRE_MAX_BODY_BYTES='-3': must be at least 1" in out.stderr
    # A server serving REST itself reads the shim's settings too, before it listens.
    out = _start("server", OLLAMA_MODELS=str(tmp_path), TOKENWIRE_REST_INPROCESS="1",
                 OLLAMA_HOST="127.0.0.1:0", TOKENWIRE_MAX_BODY_BYTES="-3")  # fmt: skip
    assert out.returncode != 0 and "listening" not in out.stdout
    assert "tokenwire server: TOKENWIRE_MAX_BODY_BYTES='-3': must be at least 1" in out.stderr


def test_an_unusable_key_file_stops_the_server(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("ci sha256:nothex\n")
    out = _start("server", OLLAMA_MODELS=str(tmp_path / "m"), TOKENWIRE_API_KEYS=str(keys))
    assert out.returncode != 0 and "tokenwire server: keys line 1: the digest is not hex" in out.stderr
    out = _start("server", OLLAMA_MODELS=str(tmp_path / "m"), TOKENWIRE_API_KEYS=str(tmp_path / "absent"))
    assert out.returncode != 0 and "No such file or directory" in out.stderr


def test_a_missing_tls_file_stops_the_server_with_its_variable(tmp_path):
    out = _start(
        "server",
        OLLAMA_MODELS=str(tmp_path / "m"),
        TOKENWIRE_TLS_CERT=str(tmp_path / "cert.pem"),
        TOKENWIRE_TLS_KEY=str(tmp_path / "key.pem"),
    )
    assert out.returncode != 0 and "tokenwire server: TOKENWIRE_TLS_KEY=" in out.stderr
    assert "Traceback" not in out.stderr
