"""Settings come from one spec: defaults, parsing, clear errors, and the README table."""

from __future__ import annotations

from pathlib import Path

import pytest

from rest_shim.settings import Settings as ShimSettings
from scripts.settings_table import rows
from server.settings import Settings
from tokenwire_common.settings import SettingError

ROOT = Path(__file__).resolve().parents[2]


def test_readme_table_is_made_from_the_specs():
    readme = (ROOT / "README.md").read_text().splitlines()
    for row in rows():
        assert row in readme, f"README lacks (or has an old form of) {row}"


def test_defaults_and_ollama_spellings():
    s = Settings.from_env({"HOME": "/h"})
    assert (s.num_parallel, s.context_length, s.max_loaded_models, s.max_queue) == (4, 4096, 3, 512)
    assert s.models_dir == Path("/h/.ollama/models") and s.cache_dir == Path("/h/.cache/tokenwire")
    assert s.keep_alive_ns == 300 * 10**9 and s.prune and s.basic_auth is None
    s = Settings.from_env(
        {"OLLAMA_KEEP_ALIVE": ' "-1" ', "OLLAMA_CONTEXT_LENGTH": "0", "OLLAMA_MAX_LOADED_MODELS": "0"}
    )
    assert s.keep_alive_ns == 2**63 - 1 and s.context_length == 4096 and s.max_loaded_models == 3
    assert Settings.from_env({"TOKENWIRE_DEFAULT_MODEL": ""}).default_model == ""
    assert Settings.from_env({"OLLAMA_NOPRUNE": "1"}).prune is False
    assert Settings.from_env({"OLLAMA_BASIC_AUTH": "u:p:q"}).basic_auth == ("u", "p:q")
    assert Settings.from_env({"TOKENWIRE_PARTIAL_MAX_AGE": "2h"}).partial_max_age_s == 7200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OLLAMA_NUM_PARALLEL": "four"}, "OLLAMA_NUM_PARALLEL='four': not an integer"),
        ({"OLLAMA_NUM_PARALLEL": "0"}, "OLLAMA_NUM_PARALLEL='0': must be at least 1"),
        ({"OLLAMA_KEEP_ALIVE": "5 minutes"}, "OLLAMA_KEEP_ALIVE='5 minutes': not a duration"),
        ({"OLLAMA_BASIC_AUTH": "nopassword"}, "OLLAMA_BASIC_AUTH='nopassword': expected user:password"),
        ({"TOKENWIRE_REFLECTION": "maybe"}, "TOKENWIRE_REFLECTION='maybe': not a boolean"),
        ({"TOKENWIRE_TLS_CERT": "c.pem"}, "TOKENWIRE_TLS_CERT and TOKENWIRE_TLS_KEY go together"),
    ],
)
def test_a_bad_value_is_refused_with_its_variable(env, message):
    with pytest.raises(SettingError) as e:
        Settings.from_env(env)
    assert str(e.value).startswith(message)


def test_shim_settings():
    s = ShimSettings.from_env({"OLLAMA_HOST": "0.0.0.0:8080", "TOKENWIRE_DEADLINE_PULL": "1h"})
    assert (s.host, s.port, s.deadline("pull"), s.deadline("chat"), s.grpc_tls) == (
        "0.0.0.0",
        8080,
        3600,
        None,
        False,
    )
    assert ShimSettings.from_env({"TOKENWIRE_GRPC_CA": "ca.pem"}).grpc_tls is True
    with pytest.raises(SettingError, match="TOKENWIRE_DEADLINE_CHAT='soon'"):
        ShimSettings.from_env({"TOKENWIRE_DEADLINE_CHAT": "soon"})
    with pytest.raises(SettingError, match="TOKENWIRE_MAX_BODY_BYTES"):
        ShimSettings.from_env({"TOKENWIRE_MAX_BODY_BYTES": "big"})
