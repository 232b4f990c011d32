"""A Java program outside the client's Maven build (tests/java/outside/Main.java), compiled
with javac against the jar that `mvn package` makes and its dependencies, streams
Generate over gRPC and catches a not-found error as TokenwireException.NotFound."""

from __future__ import annotations

import os
import subprocess

from tests.procs import ROOT, Proc

MODEL = "smollm2:135m"


def run(cmd: list[str], **kw) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_java_program_built_against_the_jar(server: Proc, tmp_path):
    java = ROOT / "clients" / "java"
    classpath_file = tmp_path / "classpath.txt"
    run(["mvn", "-q", "-B", "-ntp", "-DskipTests", "package", "dependency:build-classpath",
         f"-Dmdep.outputFile={classpath_file}"], cwd=java)  # fmt: skip
    jar = java / "target" / "tokenwire-client-0.1.0.jar"
    classpath = f"{jar}:{classpath_file.read_text().strip()}"
    run(["javac", "-Xlint:all", "-Werror", "-cp", classpath, "-d", str(tmp_path / "out"),
         str(ROOT / "tests" / "java" / "outside" / "Main.java")])  # fmt: skip
    out = run(
        ["java", "-cp", f"{tmp_path / 'out'}:{classpath}", "Main", MODEL],
        env={**os.environ, "TOKENWIRE_GRPC_ADDR": server.address},
    )
    seen = dict(line.split("=", 1) for line in out.splitlines())
    assert seen["error"] == "404 model 'does-not-exist:latest' not found"
    assert int(seen["chunks"]) >= 2 and seen["done_reason"] in ("stop", "length")
    assert seen["streamed"] == seen["unary"] != ""
