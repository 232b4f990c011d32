"""The official `ollama` npm package under Node, unpatched, against the shim."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import MODEL

JS = Path(__file__).resolve().parents[1] / "js"


def test_ollama_npm_client_generate_chat_list_version(shim_url):
    out = subprocess.run(
        ["node", str(JS / "ollama_client.mjs")],
        env={**os.environ, "OLLAMA_HOST": shim_url, "TOKENWIRE_TEST_MODEL": MODEL},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["generate"]["done"] and seen["generate"]["response"].strip()
    assert 0 < seen["generate"]["eval_count"] <= 16
    # Greedy: streamed and not streamed say the same.
    assert seen["streamed"]["response"] == seen["generate"]["response"] and seen["streamed"]["done"]
    assert seen["streamed"]["done_reason"] in ("stop", "length")
    assert seen["chat"]["role"] == "assistant" and seen["chat"]["done"] and seen["chat"]["content"].strip()
    assert seen["chatStreamed"] == seen["chat"]["content"]
    assert MODEL in seen["models"] and seen["version"] == "0.33.0"
    assert seen["missing"] == {"status": 404, "error": "model 'no-such-model' not found"}
