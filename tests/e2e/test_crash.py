"""SIGKILL at random points of upload, create, copy, delete and pull, 50 times: after
each restart the store is consistent and holds no leftovers.

A worker keeps the server busy with those operations in a loop; the server is killed
after a random delay (seeded, so a failure can be replayed), restarted on the same
store, and the store checked: every manifest's blobs exist with their sha256, no
temporary file is left, no blob is unreferenced, and a partial download is only kept
whole with its part state, to resume (a deliberate difference from Ollama, which
prunes partials at start).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import statistics
import threading
import time
from pathlib import Path

import grpc

from tests.conftest import MODEL
from tests.gguf_factory import write_tiny_f32
from tests.procs import Proc, start_server
from tests.registry import Registry
from tokenwire.v1 import models_pb2, models_pb2_grpc

KILLS = 50
OPS = ("upload", "create", "copy", "pull", "delete")
# About how long each takes, until the kills have timed the operations on this machine:
# on a fast day create takes 15 ms, and a fixed 150 ms window landed every kill past it.
SPAN = {
    "upload": 0.15,
    "create": 0.15,
    "copy": 0.01,
    "pull": 0.8,
    "delete": 0.02,
}
ENV = {
    "TOKENWIRE_DEFAULT_MODEL": "",
    "TOKENWIRE_REGISTRY_PART_SIZE": str(16 << 20),
    "TOKENWIRE_REGISTRY_RETRIES": "1",
}
_BLOB = re.compile(r"sha256-([0-9a-f]{64})")
_PARTIAL = re.compile(r"(sha256-[0-9a-f]{64})-partial(-\d+)?")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_store(root: Path) -> None:
    referenced: set[str] = set()
    for path in (root / "manifests").rglob("*") if (root / "manifests").exists() else ():
        assert not path.name.startswith(".tmp-"), f"leftover {path}"
        if path.is_file():
            doc = json.loads(path.read_bytes())
            for layer in [doc["config"], *doc["layers"]]:
                digest = layer["digest"].removeprefix("sha256:")
                blob = root / "blobs" / f"sha256-{digest}"
                assert blob.is_file(), f"{path} names a missing blob {digest[:12]}"
                referenced.add(digest)
    blobs = root / "blobs"
    names = {p.name for p in blobs.iterdir()} if blobs.exists() else set()
    for name in names:
        if m := _BLOB.fullmatch(name):
            assert m.group(1) in referenced, f"unreferenced blob {name[:19]} left"
            assert _sha256(blobs / name) == m.group(1), f"blob {name[:19]} does not match its digest"
        elif m := _PARTIAL.fullmatch(name):
            # A resumable download: its bytes and its part state, together.
            assert f"{m.group(1)}-partial" in names and f"{m.group(1)}-partial-0" in names, name
        else:
            raise AssertionError(f"leftover {name}")


def _busy(
    address: str, registry: str, tiny: list[bytes], stop: threading.Event, seed: int, log: list
) -> None:
    """Upload, create (quantizing), copy, pull and delete until the server dies; `log`
    gets each operation as it starts and "done" as it ends, with the time."""
    rng = random.Random(seed)
    channel = grpc.insecure_channel(address)
    models = models_pb2_grpc.ModelServiceStub(channel)
    try:
        while not stop.is_set():
            data = rng.choice(tiny)
            digest = "sha256:" + hashlib.sha256(data).hexdigest()

            def chunks(data=data, digest=digest):
                yield models_pb2.CreateBlobRequest(digest=digest)
                for i in range(0, len(data), 1 << 16):
                    yield models_pb2.CreateBlobRequest(data=data[i : i + (1 << 16)])

            log.append(("upload", time.monotonic()))
            noise = rng.randbytes(4 << 20)  # a blob nothing will reference: pruned at start
            models.CreateBlob(chunks(noise, "sha256:" + hashlib.sha256(noise).hexdigest()), timeout=30)
            log.append(("create", time.monotonic()))
            models.CreateBlob(chunks(), timeout=30)
            name = f"m{rng.randrange(4)}"
            request = models_pb2.CreateModelRequest(model=name, files={"m.gguf": digest}, quantize="Q8_0")
            assert list(models.CreateModel(request, timeout=60))[-1].status == "success"
            log.append(("copy", time.monotonic()))
            models.CopyModel(models_pb2.CopyModelRequest(source=name, destination=f"{name}-copy"), timeout=30)
            log.append(("pull", time.monotonic()))
            pulled = list(
                models.PullModel(models_pb2.PullModelRequest(model=registry, insecure=True), timeout=60)
            )
            assert pulled[-1].status == "success"
            log.append(("delete", time.monotonic()))
            for gone in (name, f"{name}-copy", registry):
                models.DeleteModel(models_pb2.DeleteModelRequest(model=gone), timeout=30)
            log.append(("done", time.monotonic()))
    except grpc.RpcError:
        pass  # the server was killed
    finally:
        channel.close()


def test_sigkill_at_random_points_leaves_a_consistent_store(tmp_path):
    registry = Registry(tmp_path / "registry").start()
    try:
        # The registry holds smollm2, pushed by a server that has it.
        seeder = start_server(tmp_path / "seed")
        remote = f"{registry.address}/library/smollm2:135m"
        with grpc.insecure_channel(seeder.address) as ch:
            m = models_pb2_grpc.ModelServiceStub(ch)
            m.CopyModel(models_pb2.CopyModelRequest(source=MODEL, destination=remote), timeout=30)
            assert (
                list(m.PushModel(models_pb2.PushModelRequest(model=remote, insecure=True), timeout=120))[
                    -1
                ].status
                == "success"
            )
        seeder.stop()
        tiny = [write_tiny_f32(tmp_path / f"tiny{i}.gguf", seed=i).read_bytes() for i in range(3)]
        root = tmp_path / "models"
        rng = random.Random(20261201)
        server: Proc = start_server(root, **ENV)
        killed_during: list[str] = []
        spans: dict[str, list[float]] = {}
        for kill in range(KILLS):
            stop, log = threading.Event(), []
            worker = threading.Thread(
                target=_busy, args=(server.address, remote, tiny, stop, kill, log), daemon=True
            )
            worker.start()
            # Each kill aims at one kind of operation, at a random point inside it.
            target = OPS[kill % len(OPS)]
            deadline = time.monotonic() + 60
            while target not in [op for op, _ in log] and worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.002)
            timed = spans.get(target)
            time.sleep(rng.uniform(0, statistics.median(timed) if timed else SPAN[target]))
            server.proc.kill()
            server.proc.wait(30)
            stop.set()
            worker.join(30)
            killed_during.append(log[-1][0] if log else "start")
            for (op, t0), (_, t1) in itertools.pairwise(log):  # the operations that finished
                spans.setdefault(op, []).append(t1 - t0)
            server = start_server(root, **ENV)  # heals the store at start
            check_store(root)
        with grpc.insecure_channel(server.address) as ch:
            models_pb2_grpc.ModelServiceStub(ch).ListModels(models_pb2.ListModelsRequest(), timeout=30)
        server.stop()
        # The kills landed in every kind of operation, not only between them.
        assert {"upload", "create", "copy", "pull", "delete"} <= set(killed_during), killed_during
    finally:
        registry.stop()
