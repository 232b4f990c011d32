"""deploy/envoy/tokenwire.yaml is a valid Envoy bootstrap: Debian has no Envoy, so
tests/go/envoycheck reads it as Envoy would, with Envoy's own API types
(go-control-plane): strict protojson, then the API's validation rules."""

from __future__ import annotations

import subprocess

from tests.procs import ROOT

CHECK = ROOT / "tests" / "go" / "envoycheck"
CONFIG = ROOT / "deploy" / "envoy" / "tokenwire.yaml"


def _check(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["go", "run", ".", str(path)], cwd=CHECK, capture_output=True, text=True, timeout=600
    )


def test_the_shipped_envoy_config_is_valid_and_hashes_on_the_model(tmp_path):
    done = _check(CONFIG)
    assert done.returncode == 0, done.stderr
    assert "valid: 1 listeners, 1 clusters" in done.stdout
    text = CONFIG.read_text()
    assert "lb_policy: RING_HASH" in text and "header_name: x-tokenwire-model" in text
    # The checker is not a rubber stamp: a misspelt field and a bad value both fail.
    (tmp_path / "typo.yaml").write_text(text.replace("ring_hash_lb_config", "ring_hash_lb_confg"))
    (tmp_path / "bad.yaml").write_text(text.replace("connect_timeout: 2s", "connect_timeout: -2s"))
    assert "unknown field" in _check(tmp_path / "typo.yaml").stderr
    assert "ConnectTimeout: value must be greater than 0s" in _check(tmp_path / "bad.yaml").stderr
