"""The shim in front of several servers without a proxy: TOKENWIRE_GRPC_ADDR names them
all (`ipv4:a,b`) and TOKENWIRE_GRPC_LB=ring_hash hashes on x-tokenwire-model in gRPC's
own balancer, so each model stays on one server."""

from __future__ import annotations

import httpx

import tokenwire_client
from tests.e2e.test_replicas import Fleet
from tests.procs import start_server, start_shim

NAMES = [f"lb-{i}:latest" for i in range(10)]  # all ten on one server: p = 2 * 2**-10


def test_ring_hash_in_the_shim_keeps_each_model_on_one_server(tmp_path):
    servers = [start_server(tmp_path / f"s{i}", TOKENWIRE_METRICS_ADDR="127.0.0.1:0") for i in range(2)]
    shim = None
    try:
        for s in servers:
            client = tokenwire_client.Client(host=s.address)
            for name in NAMES:
                client.create(model=name, from_="smollm2:135m")
        target = "ipv4:" + ",".join(s.address for s in servers)
        shim = start_shim(target, TOKENWIRE_GRPC_LB="ring_hash")
        with httpx.Client(base_url=f"http://{shim.address}", timeout=120) as http:
            # ring_hash connects a server's subchannel only when a pick lands on it and
            # meanwhile sends to the next READY one: models asked for first could all go
            # to the server that connected first (CI, 2026-12-06). Unknown models (404s,
            # not counted below) touch both ring halves until both are connected.
            for i in range(40):
                http.post("/api/show", json={"model": f"warm-{i}"})
            for _ in range(3):
                for name in NAMES:
                    body = {"model": name, "prompt": "hi", "stream": False, "options": {"num_predict": 1}}
                    assert http.post("/api/generate", json=body).status_code == 200
        fleet = Fleet(servers, None, shim)  # type: ignore[arg-type]  # no proxy here
        placement = fleet.placement(NAMES)
        assert all(len(where) == 1 for where in placement.values()), placement
        counts = {i: fleet.served(i) for i in range(2)}
        assert all(counts[next(iter(placement[m]))][m] == 3 for m in NAMES)
        assert len({next(iter(w)) for w in placement.values()}) == 2, (
            f"one server took every model: {placement}"
        )
    finally:
        if shim is not None:
            shim.stop()
        for s in servers:
            s.stop()
