"""A Java program outside the client's Maven build (tests/java/outside/Main.java), compiled
with javac against the jar that `mvn package` makes and its dependencies, streams
Generate over gRPC and catches a not-found error as TokenwireException.NotFound."""

from __future__ import annotations

import os

from tests.client_builds import java_classpath, javac, run
from tests.procs import ROOT, Proc

MODEL = "smollm2:135m"


def test_a_java_program_built_against_the_jar(server: Proc, tmp_path):
    classpath = javac(
        ROOT / "tests" / "java" / "outside" / "Main.java", java_classpath(tmp_path), tmp_path / "out"
    )
    out = run(
        ["java", "-cp", classpath, "Main", MODEL], env={**os.environ, "TOKENWIRE_GRPC_ADDR": server.address}
    )
    seen = dict(line.split("=", 1) for line in out.splitlines())
    assert seen["error"] == "404 model 'does-not-exist:latest' not found"
    assert int(seen["chunks"]) >= 2 and seen["done_reason"] in ("stop", "length")
    assert seen["streamed"] == seen["unary"] != ""
