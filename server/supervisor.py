"""`make serve` and `tokenwire serve`: the gRPC server on TOKENWIRE_GRPC_ADDR (default
127.0.0.1:50051) and Ollama's REST API on OLLAMA_HOST (default 127.0.0.1:11434).

By default one process serves both (TOKENWIRE_REST_INPROCESS, server/rest.py), as
`ollama serve` is one process: REST's calls take an in-process channel, which made its
first token 1.7 ms sooner than through a shim process over a Unix socket
(bench/first_token, DEVELOPERS.md). Ctrl-C (or SIGTERM) stops it gracefully.

With TOKENWIRE_REST_INPROCESS=false it runs the server and the shim as two processes,
the shape a mesh deploys: the shim reaches its server over a Unix socket in a private
directory (the server listens there too); with TOKENWIRE_GRPC_TLS set it keeps TCP, to
the TLS the user asked for. Ctrl-C stops both, each gracefully; if either exits, the
other is stopped too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tokenwire_common import settings

GRPC_ADDR = os.environ.get("TOKENWIRE_GRPC_ADDR", "").strip() or "127.0.0.1:50051"


def _tls_to_server(env: dict[str, str]) -> bool:
    """TOKENWIRE_GRPC_TLS as the shim reads it (a value it cannot parse is its to refuse)."""
    raw = settings.clean(env.get("TOKENWIRE_GRPC_TLS"))
    try:
        return bool(raw) and settings.boolean(raw)
    except ValueError:
        return True


def _two_processes(raw: str) -> bool:
    """TOKENWIRE_REST_INPROCESS set false; a value the server cannot parse is its to refuse."""
    try:
        return bool(raw) and not settings.boolean(raw)
    except ValueError:
        return False


def main() -> int:
    inprocess = settings.clean(os.environ.get("TOKENWIRE_REST_INPROCESS"))
    if not _two_processes(inprocess):
        env = {**os.environ, "TOKENWIRE_GRPC_ADDR": GRPC_ADDR}
        env["TOKENWIRE_REST_INPROCESS"] = inprocess or "true"
        # This process becomes the server: signals reach it as they would `python -m server`.
        os.execve(sys.executable, [sys.executable, "-m", "server"], env)
    if chosen := settings.clean(os.environ.get("TOKENWIRE_GRPC_SOCKET")):
        return _run(Path(chosen).expanduser())
    socket_dir = Path(tempfile.mkdtemp(prefix="tokenwire-"))  # mode 0700: only this user
    try:
        return _run(socket_dir / "grpc.sock")
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


def _run(socket: Path) -> int:
    env = {**os.environ, "TOKENWIRE_GRPC_ADDR": GRPC_ADDR}
    server_env = {**env, "TOKENWIRE_GRPC_SOCKET": str(socket)}
    shim_env = env if _tls_to_server(env) else {**env, "TOKENWIRE_GRPC_ADDR": f"unix:{socket}"}

    # Own process groups, so the terminal's Ctrl-C reaches us once and we stop them in order.
    def spawn(module: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", module], env=env, start_new_session=True)

    server = spawn("server", server_env)
    shim = spawn("rest_shim", shim_env)
    procs = [shim, server]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(p.poll() is None for p in procs):
        time.sleep(0.2)
    for p in procs:  # shim first: no new requests reach the server while it drains
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
