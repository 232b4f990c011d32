"""Model names (reference §4) and keep_alive durations (reference §3)."""

from __future__ import annotations

import pytest

from server.store.names import InvalidName, parse_name
from tokenwire_common.duration import FOREVER_NS, DurationError, keep_alive_from_json, parse_env_keep_alive


@pytest.mark.parametrize(
    ("text", "parts", "short"),
    [
        ("llama3", ("registry.ollama.ai", "library", "llama3", "latest"), "llama3:latest"),
        ("smollm2:135m", ("registry.ollama.ai", "library", "smollm2", "135m"), "smollm2:135m"),
        ("me/m:v1", ("registry.ollama.ai", "me", "m", "v1"), "me/m:v1"),
        ("hf.co/user/repo:Q4_K_M", ("hf.co", "user", "repo", "Q4_K_M"), "hf.co/user/repo:Q4_K_M"),
        ("localhost:5000/ns/m", ("localhost:5000", "ns", "m", "latest"), "localhost:5000/ns/m:latest"),
        ("http://127.0.0.1:5000/ns/m:t", ("127.0.0.1:5000", "ns", "m", "t"), "127.0.0.1:5000/ns/m:t"),
    ],
)
def test_parse_and_display(text, parts, short):
    name = parse_name(text)
    assert name.parts == parts
    assert name.display_shortest() == short


@pytest.mark.parametrize(
    "text",
    [
        "",
        "../x",
        "a/../../b",
        "/abs",
        "a b",
        "-lead",
        ".dot",
        "a.b/model",
        "m:",
        "x\x00y",
        "a/b/c/d",
        "m:t@sha256",
    ],
)
def test_invalid_names(text):
    with pytest.raises(InvalidName):
        parse_name(text)


@pytest.mark.parametrize(
    ("value", "ns"),
    [
        (0, 0),
        ("0", 0),
        ("0s", 0),
        (60, 60 * 10**9),
        (1.5, 1_500_000_000),
        ("5m", 300 * 10**9),
        ("1h30m", 5400 * 10**9),
        ("300ms", 300 * 10**6),
        (-1, FOREVER_NS),
        ("-1m", FOREVER_NS),
    ],
)
def test_keep_alive(value, ns):
    assert keep_alive_from_json(value) == ns


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3600", 'time: missing unit in duration "3600"'),
        ("", 'time: invalid duration ""'),
        ("5x", 'time: unknown unit "x" in duration "5x"'),
        (True, "Unsupported type: 'bool'"),
        ([1], "Unsupported type: 'list'"),
    ],
)
def test_keep_alive_errors(value, message):
    with pytest.raises(DurationError) as err:
        keep_alive_from_json(value)
    assert str(err.value) == message


def test_env_keep_alive_accepts_bare_seconds():
    assert parse_env_keep_alive("") == 300 * 10**9
    assert parse_env_keep_alive("10") == 10 * 10**9
    assert parse_env_keep_alive("2m") == 120 * 10**9
    assert parse_env_keep_alive("-1") == FOREVER_NS
