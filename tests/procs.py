"""Start the real server and shim as processes on port 0, and stop them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LISTEN = re.compile(r"listening on (\S+):(\d+)")


class Proc:
    """A child process that prints `... listening on host:port` once it is ready."""

    def __init__(
        self,
        module: str,
        env: Mapping[str, str],
        name: str,
        timeout: float = 120,
        *,
        cwd: Path = ROOT,
        module_: bool = True,
    ):
        """`module` is run as `python -m module`, or as a program with module_=False."""
        self.name = name
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module] if module_ else [module],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        self.port = 0

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.append(line)
                m = _LISTEN.search(line)
                if m and not ready.is_set():
                    self.port = int(m.group(2))
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or not self.port:
            self.stop()
            raise RuntimeError(f"{name} did not start:\n{''.join(self.log)}")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def listening(self, what: str, timeout: float = 30) -> str:
        """The address of another listener it announces (`tokenwire <what> listening on`)."""
        pattern = re.compile(rf"tokenwire {what} listening on (\S+:\d+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log):
                if m := pattern.search(line):
                    return m.group(1)
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} announced no {what} listener:\n{''.join(self.log)}")

    def terminate(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        self.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(models_dir: Path, **env: str) -> Proc:
    return Proc(
        "server",
        {"OLLAMA_MODELS": str(models_dir), "TOKENWIRE_GRPC_ADDR": "127.0.0.1:0", **env},
        "server",
    )


def start_rest_server(models_dir: Path, **env: str) -> Proc:
    """A server that serves the REST API itself (TOKENWIRE_REST_INPROCESS, as `make
    serve` runs it), on a port of its own: `rest_address(proc)`."""
    return start_server(models_dir, TOKENWIRE_REST_INPROCESS="1", OLLAMA_HOST="127.0.0.1:0", **env)


def rest_address(proc: Proc) -> str:
    return proc.listening("REST")


def start_shim(grpc_address: str, **env: str) -> Proc:
    return Proc(
        "rest_shim", {"TOKENWIRE_GRPC_ADDR": grpc_address, "OLLAMA_HOST": "127.0.0.1:0", **env}, "shim"
    )
