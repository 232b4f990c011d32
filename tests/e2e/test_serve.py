"""`make serve` (server/supervisor.py): by default one process serves gRPC and REST;
with TOKENWIRE_REST_INPROCESS=false the shim reaches its server over a Unix socket in a
private directory, which is gone once both have stopped, and with TLS asked for between
them it stays on TCP."""

from __future__ import annotations

import re
import signal
import stat
import time
from pathlib import Path

import httpx

from tests.conftest import MODEL
from tests.procs import Proc

_SOCKET = re.compile(r"tokenwire gRPC listening on unix:(\S+)")


def _socket_path(proc: Proc) -> Path:
    """Where the server listens besides TCP (announced right after its TCP port)."""
    proc.listening("gRPC", timeout=120)
    deadline = time.monotonic() + 10
    while not (paths := [m.group(1) for line in list(proc.log) if (m := _SOCKET.search(line))]):
        assert time.monotonic() < deadline, "".join(proc.log)
        time.sleep(0.05)
    assert len(paths) == 1, "".join(proc.log)
    return Path(paths[0])


def test_serve_is_one_process_serving_grpc_and_rest(tmp_path):
    """`make serve` as `ollama serve`: no children; REST answers on OLLAMA_HOST, gRPC on
    its own port, and Ctrl-C ends it with status 0."""
    env = {"OLLAMA_MODELS": str(tmp_path / "models"), "TOKENWIRE_GRPC_ADDR": "127.0.0.1:0",
           "OLLAMA_HOST": "127.0.0.1:0"}  # fmt: skip
    proc = Proc("server.supervisor", env, "make serve")
    try:
        rest = proc.listening("REST", timeout=120)
        with httpx.Client(base_url=f"http://{rest}", timeout=120) as http:
            body = {"model": MODEL, "prompt": "Hi", "stream": False, "options": {"num_predict": 3}}
            r = http.post("/api/generate", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["eval_count"] >= 1
        assert Path(f"/proc/{proc.proc.pid}/cmdline").read_bytes().split(b"\0")[1:3] == [b"-m", b"server"]
        assert not Path(f"/proc/{proc.proc.pid}/task/{proc.proc.pid}/children").read_text().split()
        proc.proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        proc.stop()


def test_serve_joins_shim_and_server_over_a_private_socket(tmp_path):
    """The gRPC address is port 0 for both children: a shim dialling it over TCP could
    not reach the server, so an answered generate went through the socket."""
    env = {"OLLAMA_MODELS": str(tmp_path / "models"), "TOKENWIRE_GRPC_ADDR": "127.0.0.1:0",
           "OLLAMA_HOST": "127.0.0.1:0", "TOKENWIRE_REST_INPROCESS": "false"}  # fmt: skip
    proc = Proc("server.supervisor", env, "make serve")
    try:
        sock = _socket_path(proc)
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        shim = proc.listening("shim")
        with httpx.Client(base_url=f"http://{shim}", timeout=120) as http:
            body = {"model": MODEL, "prompt": "Hi", "stream": False, "options": {"num_predict": 3}}
            r = http.post("/api/generate", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["eval_count"] >= 1
        assert _child_env(proc, "rest_shim")["TOKENWIRE_GRPC_ADDR"] == f"unix:{sock}"
    finally:
        proc.stop()
    assert proc.proc.returncode == 0
    assert not sock.parent.exists()


def _child_env(proc: Proc, module: str) -> dict[str, str]:
    """The environment the supervisor gave its child `python -m module`."""
    children = Path(f"/proc/{proc.proc.pid}/task/{proc.proc.pid}/children").read_text().split()
    for pid in children:
        if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:3] == [b"-m", module.encode()]:
            pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)
    raise AssertionError(f"no child runs {module}: {children}")


def test_serve_keeps_tcp_when_tls_to_the_server_is_asked_for(tmp_path):
    """TOKENWIRE_GRPC_TLS means the user wants TLS between the shim and the server (a
    plain socket would bypass it): the shim gets the TCP address."""
    env = {"OLLAMA_MODELS": str(tmp_path / "models"), "TOKENWIRE_GRPC_ADDR": "127.0.0.1:0",
           "OLLAMA_HOST": "127.0.0.1:0", "TOKENWIRE_GRPC_TLS": "true",
           "TOKENWIRE_REST_INPROCESS": "false"}  # fmt: skip
    proc = Proc("server.supervisor", env, "make serve")
    try:
        sock = _socket_path(proc)  # the server still listens there, for other local clients
        assert _child_env(proc, "rest_shim")["TOKENWIRE_GRPC_ADDR"] == "127.0.0.1:0"
        assert _child_env(proc, "server")["TOKENWIRE_GRPC_SOCKET"] == str(sock)
    finally:
        proc.stop()
