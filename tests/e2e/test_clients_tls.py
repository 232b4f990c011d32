"""TLS and credentials in the Go, Node and Java clients, as their READMEs describe them:
against a server that requires a client certificate (mutual TLS) and an API key, each
client with both lists the models, and without the key is refused as UNAUTHENTICATED
(HTTP 401). The Python client's TLS is in clients/python/tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client_builds import java_classpath, javac, node_build, run
from tests.e2e.test_auth import _key
from tests.procs import ROOT, Proc, start_server
from tests.registry import make_tls


@pytest.fixture(scope="module")
def secured(tmp_path_factory) -> Iterator[tuple[Proc, dict[str, str]]]:
    root = tmp_path_factory.mktemp("clients-tls")
    key = _key(root / "keys")
    tls = root / "tls"
    make_tls(tls)
    server = start_server(
        root / "models",
        TOKENWIRE_TLS_CERT=str(tls / "cert.pem"),
        TOKENWIRE_TLS_KEY=str(tls / "key.pem"),
        TOKENWIRE_TLS_CLIENT_CA=str(tls / "ca.pem"),
        TOKENWIRE_API_KEYS=str(root / "keys"),
    )
    env = {
        **os.environ,
        "TW_ADDR": server.address,
        "TW_CA": str(tls / "ca.pem"),
        "TW_CERT": str(tls / "client.pem"),
        "TW_KEY": str(tls / "client-key.pem"),
        "TW_API_KEY": key,
    }
    try:
        yield server, env
    finally:
        server.stop()


def _check(out: str, refused: str) -> None:
    listed, answer = out.strip().splitlines()
    assert listed.startswith("listed ") and int(listed.split()[1]) >= 1
    assert answer == refused


def test_go(secured, tmp_path: Path):
    _, env = secured
    program = ROOT / "tests" / "go" / "tls"
    run(["go", "build", "-o", str(tmp_path / "tls"), "."], cwd=program)
    _check(run([str(tmp_path / "tls")], env=env), "refused 401 Unauthenticated")


def test_node(secured):
    _, env = secured
    node_build()
    _check(run(["node", str(ROOT / "tests" / "js" / "tls.js")], env=env), "refused 401 UNAUTHENTICATED")


def test_java(secured, tmp_path: Path):
    _, env = secured
    classpath = javac(
        ROOT / "tests" / "java" / "tls" / "TlsCheck.java", java_classpath(tmp_path), tmp_path / "out"
    )
    _check(run(["java", "-cp", classpath, "TlsCheck"], env=env), "refused 401 UNAUTHENTICATED")
