"""Three replicas behind a real proxy from Debian (nginx, then HAProxy), running the
shipped configurations of deploy/, with the shim in front: each model stays on one
replica (the proxy hashes on x-tokenwire-model), SIGKILL moves only the dead replica's
models and hangs no stream, and SIGTERM during 8 live streams loses none of them."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

import tokenwire_client
from tests.procs import Proc, start_server, start_shim
from tests.proxies import Proxy

BASE = "smollm2:135m"
NAMES = [f"route-{i}:latest" for i in range(9)]  # placement is the proxy's hash: probe
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"


@dataclass
class Fleet:
    replicas: list[Proc]
    proxy: Proxy
    shim: Proc

    def served(self, i: int) -> Counter[str]:
        """Requests replica i finished, by model, from its own metrics listener."""
        url = f"http://{self.replicas[i].listening('metrics')}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        out: Counter[str] = Counter()
        for family in text_string_to_metric_families(text):
            if family.name == "tokenwire_requests":
                for sample in family.samples:
                    out[sample.labels["model"]] += int(sample.value)
        return out

    def alive(self) -> list[int]:
        return [i for i, r in enumerate(self.replicas) if r.proc.poll() is None]

    def placement(self, models: list[str]) -> dict[str, set[int]]:
        counts = {i: self.served(i) for i in self.alive()}
        return {m: {i for i, c in counts.items() if c[m]} for m in models}


@pytest.fixture(params=["nginx", "haproxy"])
def fleet(request, tmp_path) -> Iterator[Fleet]:
    replicas = [
        start_server(
            tmp_path / f"r{i}",
            TOKENWIRE_METRICS_ADDR="127.0.0.1:0",
            TOKENWIRE_DRAIN_DELAY="1",
            TOKENWIRE_SHUTDOWN_GRACE="60",
        )
        for i in range(3)
    ]
    proxy = None
    shim = None
    try:
        for r in replicas:  # every replica has every model (each its own store)
            client = tokenwire_client.Client(host=r.address)
            for name in NAMES:
                client.create(model=name, from_=BASE, system=f"You are {name}.")
        proxy = Proxy(request.param, tmp_path / request.param, [r.address for r in replicas])
        shim = start_shim(proxy.address)
        yield Fleet(replicas, proxy, shim)
    finally:
        for p in (shim, proxy, *replicas):
            if p is not None:
                p.stop()


def _generate(http: httpx.Client, model: str, n: int = 1) -> dict:
    body = {"model": model, "prompt": "Say yes.", "stream": False, "options": {"num_predict": n}}
    r = http.post("/api/generate", json=body)
    assert r.status_code == 200, (model, r.status_code, r.text)
    return r.json()


def _stream_lines(http: httpx.Client, model: str, num_predict: int) -> Iterator[dict]:
    body = {"model": model, "prompt": COUNTING, "raw": True, "stream": True,
            "options": {"num_predict": num_predict, "temperature": 0}}  # fmt: skip
    with http.stream("POST", "/api/generate", json=body) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line:
                yield json.loads(line)


def _pick_three(placement: dict[str, set[int]]) -> list[str]:
    """Three models on as many different replicas as the hash allows (at least two)."""
    by_replica: dict[int, list[str]] = {}
    for m, where in placement.items():
        (i,) = where
        by_replica.setdefault(i, []).append(m)
    assert len(by_replica) >= 2, f"all nine models hashed to one replica: {placement}"
    firsts = [ms[0] for ms in by_replica.values()]
    rest = [m for ms in by_replica.values() for m in ms[1:]]
    return (firsts + rest)[:3]


def test_models_stay_on_one_replica_through_kill_and_drain(fleet: Fleet):
    with httpx.Client(base_url=f"http://{fleet.shim.address}", timeout=120) as http:
        # Where the proxy puts each name: one replica each.
        for name in NAMES:
            _generate(http, name)
        placement = fleet.placement(NAMES)
        assert all(len(where) == 1 for where in placement.values()), placement
        chosen = _pick_three(placement)
        home = {m: next(iter(placement[m])) for m in chosen}

        # 60 requests over the three models: each model's all land on its replica.
        before = {i: fleet.served(i) for i in range(3)}
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda k: _generate(http, chosen[k % 3]), range(60)))
        after = {i: fleet.served(i) for i in range(3)}
        for m in chosen:
            for i in range(3):
                assert after[i][m] - before[i][m] == (20 if i == home[m] else 0), (m, i, home)

        # SIGKILL a replica with a stream in flight: the stream ends (no hang), and only
        # that replica's models move.
        victim = home[chosen[0]]
        doomed = _stream_lines(http, chosen[0], 100000)
        assert not next(doomed)["done"]
        fleet.replicas[victim].proc.send_signal(signal.SIGKILL)
        fleet.replicas[victim].proc.wait(10)
        t = time.monotonic()
        with pytest.raises((httpx.HTTPError, AssertionError, json.JSONDecodeError, StopIteration)):
            for chunk in doomed:  # an error line or a cut stream, never a done
                assert not chunk.get("done") and "error" not in chunk
        assert time.monotonic() - t < 30, "the stream of the killed replica hung"
        before = {i: fleet.served(i) for i in fleet.alive()}
        for m in chosen:
            for _ in range(5):
                _generate(http, m)
        after = {i: fleet.served(i) for i in fleet.alive()}
        moved = {m: {i for i in fleet.alive() if after[i][m] > before[i][m]} for m in chosen}
        for m in chosen:
            assert len(moved[m]) == 1, moved
            if home[m] != victim:
                assert moved[m] == {home[m]}, f"{m} moved off a live replica: {moved}"
            home[m] = next(iter(moved[m]))

        # SIGTERM a replica during 8 live streams of its models: all 8 finish, and
        # requests sent meanwhile are answered (by it during its drain delay, then elsewhere).
        target = home[chosen[1]] if home[chosen[1]] != victim else home[chosen[2]]
        theirs = [m for m in chosen if home[m] == target]
        streams = [_stream_lines(http, theirs[k % len(theirs)], 48) for k in range(8)]
        firsts = [next(s) for s in streams]
        assert not any(f["done"] for f in firsts)
        results: list[list[dict]] = [[] for _ in streams]
        readers = [threading.Thread(target=lambda k=k: results[k].extend(streams[k])) for k in range(8)]
        for r in readers:
            r.start()
        fleet.replicas[target].terminate()
        for _ in range(6):
            _generate(http, theirs[0])
            time.sleep(0.3)
        for r in readers:
            r.join(120)
        for k, chunks in enumerate(results):
            assert chunks and chunks[-1]["done"], f"stream {k} was cut: {chunks[-1:]}"
            assert chunks[-1]["eval_count"] == 48
        assert fleet.replicas[target].wait(60) == 0
