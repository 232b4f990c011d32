"""The proxies of deploy/, run for real (Debian's nginx and HAProxy) in front of test
replicas: the shipped file, with only its replica addresses, port and log paths
replaced, so the tests check the configuration operators copy."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.procs import ROOT
from tests.registry import free_port

DEPLOY = ROOT / "deploy"


class Proxy:
    def __init__(self, kind: str, root: Path, replicas: list[str]):
        root.mkdir(parents=True, exist_ok=True)
        self.kind, self.root, self.port = kind, root, free_port()
        self.log = root / "access.log"
        if kind == "nginx":
            config = root / "nginx.conf"
            config.write_text(self._nginx(replicas))
            settings = f"daemon off; pid {root / 'nginx.pid'}; error_log {root / 'error.log'} info;"
            nginx = shutil.which("nginx") or "/usr/sbin/nginx"
            cmd = [nginx, "-p", str(root), "-c", str(config), "-g", settings]
        else:
            config = root / "haproxy.cfg"
            config.write_text(self._haproxy(replicas))
            cmd = [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(config)]
        self.proc = subprocess.Popen(cmd, stdout=(root / "out.log").open("w"), stderr=subprocess.STDOUT)
        self._wait()

    def _nginx(self, replicas: list[str]) -> str:
        text = (DEPLOY / "nginx" / "tokenwire.conf").read_text()
        servers = "".join(f"        server {a} max_fails=1 fail_timeout=10s;\n" for a in replicas)
        text, n = re.subn(r"(        server \S+ max_fails=1 fail_timeout=10s;\n)+", servers, text)
        assert n == 1
        text = text.replace("listen 50050 http2;", f"listen 127.0.0.1:{self.port} http2;")
        return text.replace("/var/log/nginx/tokenwire.log", str(self.log))

    def _haproxy(self, replicas: list[str]) -> str:
        text = (DEPLOY / "haproxy" / "tokenwire.cfg").read_text()
        servers = "".join(f"    server r{i} {a}\n" for i, a in enumerate(replicas, 1))
        text, n = re.subn(r"(    server r\d \S+\n)+", servers, text)
        assert n == 1
        return text.replace("bind :50050 proto h2", f"bind 127.0.0.1:{self.port} proto h2")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _wait(self) -> None:
        import socket

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {(self.root / 'out.log').read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} did not listen")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
