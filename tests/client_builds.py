"""Builds of the Node and Java clients for tests that run programs outside their suites:
the tests start no build tool twice for the same thing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.procs import ROOT

JAVA = ROOT / "clients" / "java"
NODE = ROOT / "clients" / "node"


def run(cmd: list[str], cwd: Path | None = None, **kw) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def java_classpath(out: Path) -> str:
    """`mvn package` the client; its jar and its dependencies as a classpath."""
    listing = out / "classpath.txt"
    run(["mvn", "-q", "-B", "-ntp", "-DskipTests", "package", "dependency:build-classpath",
         f"-Dmdep.outputFile={listing}"], cwd=JAVA)  # fmt: skip
    return f"{JAVA / 'target' / 'tokenwire-client-0.1.0.jar'}:{listing.read_text().strip()}"


def javac(source: Path, classpath: str, out: Path) -> str:
    """Compiles one program against the client, warnings as errors; its run classpath."""
    run(["javac", "-Xlint:all", "-Werror", "-cp", classpath, "-d", str(out), str(source)])
    return f"{out}:{classpath}"


def node_build() -> Path:
    """`npm run build` the client (stubs and tsc --strict); its dist folder."""
    run(["npm", "run", "--silent", "build"], cwd=NODE)
    return NODE / "dist"
