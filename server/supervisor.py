"""`make serve` and `tokenwire serve`: the gRPC server on TOKENWIRE_GRPC_ADDR (default
127.0.0.1:50051) and the REST shim on OLLAMA_HOST (default 127.0.0.1:11434). Ctrl-C (or
SIGTERM) stops both, each gracefully; if either exits, the other is stopped too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRPC_ADDR = os.environ.get("TOKENWIRE_GRPC_ADDR", "").strip() or "127.0.0.1:50051"


def main() -> int:
    env = {**os.environ, "TOKENWIRE_GRPC_ADDR": GRPC_ADDR}

    # Own process groups, so the terminal's Ctrl-C reaches us once and we stop them in order.
    def spawn(module: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", module], env=env, start_new_session=True)

    server = spawn("server")
    shim = spawn("rest_shim")
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
