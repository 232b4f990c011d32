"""Pure pieces of the robustness work: request bounds, body decoding, credentials, healing."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from rest_shim.body import parse_json
from rest_shim.codec import common
from rest_shim.errors import ShimError
from server import limits
from server.auth import Authenticator, KeyFileError, digest, load_keys, main
from server.errors import InvalidArgument
from server.options import check_params
from server.store.heal import heal
from server.store.models import ModelStore
from tokenwire_common.limits import MAX_ERROR_CHARS, clip, json_depth


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


def test_json_depth_is_iterative_and_stops_early():
    assert json_depth(1) == 0 and json_depth({"a": 1}) == 1 and json_depth([[1], {"b": {}}]) == 3
    assert json_depth(nested(5000)) == 65  # stops past the limit, no RecursionError


def test_options_out_of_bounds_are_refused():
    with pytest.raises(InvalidArgument, match=r'option "num_ctx" must be between 0 and 1048576'):
        limits.check_option("num_ctx", 1 << 30)
    with pytest.raises(InvalidArgument, match="finite"):
        limits.check_option("temperature", float("inf"))
    with pytest.raises(InvalidArgument, match='option "num_batch"'):
        check_params({"num_batch": 10**9})  # a Modelfile PARAMETER, checked at create
    with pytest.raises(InvalidArgument, match="must be of type integer"):
        check_params({"num_ctx": "big"})
    check_params({"num_ctx": 2048, "temperature": 0.5, "stop": ["x"]})


def test_images_are_bounded():
    limits.check_images([b"x"] * 32)
    with pytest.raises(InvalidArgument, match="too many images"):
        limits.check_images([b"x"] * 33)
    with pytest.raises(InvalidArgument, match="too large"):
        limits.check_images([b"x" * (limits.MAX_IMAGE_BYTES + 1)])


def test_num_batch_and_threads_are_fitted():
    assert limits.num_batch(1, 4, 2048) == 4  # below the slots: llama.cpp asserts
    assert limits.num_batch(10**6, 4, 1024) == 4096  # above the whole context
    assert limits.num_thread(600) == (os.cpu_count() or 1) and limits.num_thread(1) == 1


def test_error_messages_are_clipped():
    assert clip("x" * 10) == "x" * 10
    assert len(clip("x" * 100_000)) == MAX_ERROR_CHARS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": NaN}', "invalid character 'N' looking for beginning of value"),
        (b'{"a": -Infinity}', "invalid character '-' looking for beginning of value"),
        (b"[" * 100 + b"]" * 100, "json: exceeded max depth of 64"),
        (b"[" * 100_000, "json: exceeded max depth of 64"),
    ],
)
def test_bodies_go_refuses(raw, message):
    with pytest.raises(ShimError) as e:
        parse_json(raw)
    assert (e.value.status, e.value.message) == (400, message)


def test_bodies_decode_as_go_does():
    assert parse_json(b'{"p": "a\xffb"}') == {"p": "a\ufffdb"}  # invalid UTF-8
    assert parse_json(b'{"p": "\\ud800x", "q": ["\\udc00"]}') == {"p": "\ufffdx", "q": ["\ufffd"]}
    assert parse_json(b'{"p": "\\ud83d\\ude00"}') == {"p": "\U0001f600"}  # a real pair stays


def test_null_in_lists_decodes_as_zero_values_and_big_ints_are_refused():
    body = {"context": [1, None], "images": None}
    common.check_types(body, "GenerateRequest", {"context": "[]int", "images": "any"})
    assert body["context"] == [1, 0]
    with pytest.raises(ShimError) as e:
        common.check_types({"context": [2**64]}, "GenerateRequest", {"context": "[]int"})
    assert e.value.message == (
        f"json: cannot unmarshal number {2**64} into Go struct field GenerateRequest.context of type int"
    )
    with pytest.raises(ShimError) as e:
        common.options_to_pb({"num_ctx": 1e300})
    assert e.value.status == 400 and e.value.message.startswith('option "num_ctx" is out of range')


def test_credentials_basic_and_keys(tmp_path):
    keys = tmp_path / "keys"
    main(["add", "ci", "--file", str(keys)])
    line = keys.read_text().strip()
    assert line.startswith("ci sha256:") and len(line.split(":")[1]) == 64
    auth = Authenticator(("admin", "s3cret"), [*load_keys(keys)])
    stored = load_keys(keys)[0].digest
    assert auth.enabled and auth.challenge() == 'Basic realm="tokenwire", Bearer realm="tokenwire"'
    good_basic = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    assert auth.allows(good_basic)
    assert not auth.allows("Basic " + base64.b64encode(b"admin:wrong").decode())
    assert not auth.allows("Basic !!notbase64") and not auth.allows(None) and not auth.allows("")
    assert not auth.allows("Bearer nope") and not auth.allows("Token x")
    key = "tw_example"
    assert Authenticator(None, [type(load_keys(keys)[0])("k", digest(key))]).allows(f"Bearer {key}")
    assert digest(key) != stored
    assert not Authenticator().enabled
    bad = tmp_path / "bad"
    bad.write_text("k sha256:zz\n")
    with pytest.raises(KeyFileError, match="line 1"):
        load_keys(bad)


def test_heal_removes_leftovers_and_keeps_resumable_downloads(tmp_path: Path):
    store = ModelStore(tmp_path)
    blobs, manifests = tmp_path / "blobs", tmp_path / "manifests" / "h" / "ns" / "m"
    blobs.mkdir(parents=True)
    manifests.mkdir(parents=True)
    data = b"config"
    import hashlib

    hexd = hashlib.sha256(data).hexdigest()
    (blobs / f"sha256-{hexd}").write_bytes(data)
    manifest = {"schemaVersion": 2, "config": {"digest": f"sha256:{hexd}", "size": 6}, "layers": []}
    (manifests / "latest").write_text(json.dumps(manifest))
    (manifests / ".tmp-abc").write_text("half")
    orphan = "a" * 64
    (blobs / f"sha256-{orphan}").write_bytes(b"unreferenced")
    (blobs / "sha256-k2j4x9z1-partial").write_bytes(b"cut upload")
    (blobs / f"sha256-{'b' * 64}-import-12.tmp").write_bytes(b"cut import")
    resumable, stale, unclaimed = "c" * 64, "d" * 64, "e" * 64
    for h in (resumable, stale):
        (blobs / f"sha256-{h}-partial").write_bytes(b"bytes")
        (blobs / f"sha256-{h}-partial-0").write_text('{"N":0,"Offset":0,"Size":5,"Completed":2}')
    (blobs / f"sha256-{unclaimed}-partial").write_bytes(b"bytes")
    (blobs / f"sha256-{'f' * 64}-partial-0").write_text("{}")  # state without its bytes
    old = time.time() - 3 * 24 * 3600
    os.utime(blobs / f"sha256-{stale}-partial", (old, old))
    (blobs / f"sha256-{resumable}-partial-0.tmp").write_text("{}")

    kept_with_noprune = heal(store, prune=False)
    assert sorted(kept_with_noprune) == sorted(
        [
            "manifests/h/ns/m/.tmp-abc",
            "blobs/sha256-k2j4x9z1-partial",
            f"blobs/sha256-{'b' * 64}-import-12.tmp",
            f"blobs/sha256-{resumable}-partial-0.tmp",
        ]
    )
    assert (blobs / f"sha256-{orphan}").exists()
    heal(store)
    left = sorted(p.name for p in blobs.iterdir())
    assert left == sorted([f"sha256-{hexd}", f"sha256-{resumable}-partial", f"sha256-{resumable}-partial-0"])
    assert not heal(store)  # nothing left to do
