"""Usage on a prefix-cache hit: the same chat sent again reports the whole prompt, as
Ollama does, and says beside it what the cache served, in each API's own field."""

from __future__ import annotations

import anthropic
import httpx
import openai

from tests.conftest import MODEL

CHAT = [
    {"role": "system", "content": "You are a careful assistant who answers briefly."},
    {"role": "user", "content": "Name three rivers in Europe."},
]
ONE = {"temperature": 0, "num_predict": 1}


def test_a_repeated_chat_reports_the_whole_prompt_and_the_cached_part(shim_url):
    with httpx.Client(base_url=shim_url, timeout=120) as http:
        runs = [
            http.post(
                "/api/chat", json={"model": MODEL, "messages": CHAT, "stream": False, "options": ONE}
            ).json()
            for _ in range(3)
        ]
    counts = [r["prompt_eval_count"] for r in runs]
    assert counts[0] == counts[1] == counts[2] > 10
    # The repeats reuse all but the last prompt token (it is decoded again for its logits).
    assert [r.get("prompt_cached_count", 0) for r in runs[1:]] == [counts[0] - 1] * 2

    oa = openai.OpenAI(base_url=f"{shim_url}/v1", api_key="x")
    usages = [
        oa.chat.completions.create(model=MODEL, messages=CHAT, max_tokens=1, temperature=0).usage
        for _ in range(2)
    ]
    assert usages[0].prompt_tokens == usages[1].prompt_tokens > 10
    assert usages[1].prompt_tokens_details.cached_tokens == usages[1].prompt_tokens - 1

    an = anthropic.Anthropic(base_url=shim_url, api_key="x")
    system, user = CHAT[0]["content"], CHAT[1:]
    replies = [an.messages.create(model=MODEL, system=system, messages=user, max_tokens=1) for _ in range(2)]
    assert replies[0].usage.input_tokens == replies[1].usage.input_tokens > 10
    assert replies[1].usage.cache_read_input_tokens == replies[1].usage.input_tokens - 1
