"""A real Prometheus (Debian's) for the metrics tests: it scrapes the targets it is given
every 500 ms, and answers PromQL over its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.registry import free_port

PROMETHEUS_BIN = shutil.which("prometheus") or "/usr/bin/prometheus"


class Prometheus:
    def __init__(self, root: Path, targets: dict[str, str]):
        """targets: job name -> host:port whose /metrics it scrapes."""
        root.mkdir(parents=True, exist_ok=True)
        jobs = "\n".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: ['{addr}']"
            for job, addr in targets.items()
        )
        config = root / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n{jobs}\n"
        )
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PROMETHEUS_BIN, f"--config.file={config}", f"--storage.tsdb.path={root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=(root / "prometheus.log").open("w"),
        )  # fmt: skip
        self._wait_ready()

    def _get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("prometheus did not start")

    def targets_up(self) -> dict[str, bool]:
        active = self._get("/api/v1/targets")["data"]["activeTargets"]
        return {t["labels"]["job"]: t["health"] == "up" for t in active}

    def query(self, promql: str) -> float | None:
        """An instant query's one value, or None when it selects nothing."""
        data = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))["data"]["result"]
        assert len(data) <= 1, data
        return float(data[0]["value"][1]) if data else None

    def wait_scraped_after(self, t: float, timeout: float = 30) -> None:
        """Until every target has been scraped at least once after time `t` (epoch s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            active = self._get("/api/v1/targets")["data"]["activeTargets"]
            if active and all(t_["health"] == "up" and _epoch(t_["lastScrape"]) > t for t_ in active):
                return
            time.sleep(0.2)
        raise RuntimeError(f"targets not scraped: {self._get('/api/v1/targets')}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _epoch(rfc3339: str) -> float:
    from datetime import datetime

    # Prometheus gives nanoseconds ("2026-12-02T10:00:00.123456789Z"); keep microseconds.
    head, _, frac = rfc3339.rstrip("Z").partition(".")
    stamp = f"{head}.{(frac + '000000')[:6]}+00:00" if frac else f"{head}+00:00"
    return datetime.fromisoformat(stamp).timestamp()
