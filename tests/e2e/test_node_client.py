"""A program written for ollama-js (tests/js/main.ts, npm "ollama" 0.6.4) runs through
the shim, and, with only its import changed to "@tokenwire/client" (installed from the
package's own tarball, as a user would), over gRPC; both builds pass tsc --strict and
print the same answers, the not-found error included."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.client_builds import NODE, run
from tests.procs import ROOT, Proc

MODEL = "smollm2:135m"
PROGRAM = ROOT / "tests" / "js"
NOT_FOUND = {"status": 404, "message": "model 'does-not-exist:latest' not found"}


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    """clients/node packed as npm publishes it (prepack builds it)."""
    out = tmp_path_factory.mktemp("pack")
    name = run(["npm", "pack", "--silent", "--pack-destination", str(out)], NODE)
    return out / name.strip().splitlines()[-1]


def _program_output(folder: Path, host: str) -> dict:
    run(["npx", "tsc", "-p", "tsconfig.json"], folder)
    return json.loads(run(["node", "dist/main.js", MODEL], folder, env={**os.environ, "HOST": host}))


def test_an_ollama_js_program_runs_on_tokenwires_client(
    tarball: Path, server: Proc, shim_url: str, tmp_path: Path
):
    through_shim = _program_output(PROGRAM, shim_url)

    source = (PROGRAM / "main.ts").read_text()
    old = 'from "ollama";'
    assert source.count(old) == 1
    (tmp_path / "main.ts").write_text(source.replace(old, 'from "@tokenwire/client";'))
    shutil.copy(PROGRAM / "tsconfig.json", tmp_path)
    package = json.loads((PROGRAM / "package.json").read_text())
    package["dependencies"] = {"@tokenwire/client": f"file:{tarball}"}
    (tmp_path / "package.json").write_text(json.dumps(package))
    run(["npm", "install", "--no-audit", "--no-fund"], tmp_path)
    over_grpc = _program_output(tmp_path, server.address)

    assert over_grpc == through_shim
    assert over_grpc["error"] == NOT_FOUND
    assert over_grpc["generate_streamed"] == over_grpc["generate"] != ""
    assert over_grpc["embed"] == [2, 576] and over_grpc["list_has_model"] is True
