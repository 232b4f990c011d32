"""The official `anthropic` package, unpatched, against the shim's /v1/messages."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.conftest import MODEL


@pytest.fixture(scope="module")
def client(shim_url):
    return anthropic.Anthropic(base_url=shim_url, api_key="ignored")


def test_message_not_streamed(client):
    r = client.messages.create(
        model=MODEL,
        max_tokens=16,
        system="Be brief.",
        messages=[{"role": "user", "content": "Name a colour."}],
        extra_body={"temperature": 0},
    )
    assert r.type == "message" and r.role == "assistant" and r.id.startswith("msg_")
    assert r.content[0].type == "text" and r.content[0].text.strip()
    assert r.stop_reason in ("end_turn", "max_tokens")
    assert r.usage.input_tokens > 0 and 0 < r.usage.output_tokens <= 16


def test_message_streamed_events(client):
    messages = [{"role": "user", "content": [{"type": "text", "text": "Count to five."}]}]
    with client.messages.stream(
        model=MODEL, max_tokens=10, messages=messages, extra_body={"temperature": 0}
    ) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "content_block_start" in events and "content_block_delta" in events
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 10
    whole = client.messages.create(
        model=MODEL, max_tokens=10, messages=messages, extra_body={"temperature": 0}
    )
    assert final.content[0].text == whole.content[0].text


def test_errors_use_the_anthropic_envelope(shim_url):
    r = httpx.post(f"{shim_url}/v1/messages", json={"model": MODEL, "messages": []})
    assert (r.status_code, r.json()) == (
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "max_tokens is required and must be positive",
            },
        },
    )
    r = httpx.post(
        f"{shim_url}/v1/messages",
        json={"model": "nope", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_a_stop_sequence_is_reported(client):
    """Greedy SmolLM2 answers "The Fibonacci sequence is ..."; the stop sequence ends it
    and is named."""
    msg = client.messages.create(
        model=MODEL,
        max_tokens=40,
        stop_sequences=["unlikely-stop", "sequence"],
        extra_body={"temperature": 0},
        messages=[{"role": "user", "content": "Count from 1 to 10, separated by commas."}],
    )
    assert (msg.stop_reason, msg.stop_sequence) == ("stop_sequence", "sequence")
    assert msg.content[0].text == "The Fibonacci "
    with client.messages.stream(
        model=MODEL,
        max_tokens=40,
        stop_sequences=["unlikely-stop", "sequence"],
        extra_body={"temperature": 0},
        messages=[{"role": "user", "content": "Count from 1 to 10, separated by commas."}],
    ) as stream:
        final = stream.get_final_message()
    assert (final.stop_reason, final.stop_sequence) == ("stop_sequence", "sequence")
