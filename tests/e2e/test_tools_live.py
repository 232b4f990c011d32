"""Chat with tools through models created with tool-aware TEMPLATEs, live on SmolLM2."""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from tests.conftest import MODEL

# ChatML (SmolLM2's own format) plus tools. The call syntax is bare JSON, so the tool
# tag Ollama derives from it is "{".
JSON_CALLS = """{{- if or .System .Tools }}<|im_start|>system
{{ if .System }}{{ .System }}{{ end }}
{{- if .Tools }}You can call these functions: {{ json .Tools }}
To call one, answer only with {"name": <function name>, "arguments": <arguments object>}.{{ end }}<|im_end|>
{{ end }}
{{- range .Messages }}<|im_start|>{{ .Role }}
{{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}",
{{- " " }}"arguments": {{ .Function.Arguments }}}{{ end }}{{ else }}{{ .Content }}{{ end }}<|im_end|>
{{ end }}<|im_start|>assistant
"""

# The qwen2.5 style: calls inside <tool_call></tool_call>.
TAGGED_CALLS = JSON_CALLS.replace('answer only with {"name"', 'answer with <tool_call>{"name"').replace(
    "{{ if .ToolCalls }}{{ range .ToolCalls }}",
    "{{ if .ToolCalls }}<tool_call>\n{{ range .ToolCalls }}",
)

# Plain ChatML, without tools: the template SmolLM2 was seeded with before issue 17.
PLAIN = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string", "description": "The city"}},
        },
    },
}
CALL_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "enum": ["get_weather"]},
        "arguments": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "London"]}},
            "required": ["city"],
        },
    },
    "required": ["name", "arguments"],
}
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
GREEDY = {"temperature": 0, "seed": 1, "num_predict": 64}


@pytest.fixture(scope="module")
def client(shim_url):
    with httpx.Client(base_url=shim_url, timeout=300) as c:
        for name, template in (
            ("smol-tools", JSON_CALLS),
            ("smol-tagged", TAGGED_CALLS),
            ("smol-plain", PLAIN),
        ):
            r = c.post(
                "/api/create",
                json={"model": name, "from": MODEL, "template": template, "stream": False},
            )
            assert r.status_code == 200, r.text
        yield c
        for name in ("smol-tools", "smol-tagged", "smol-plain"):
            c.request("DELETE", "/api/delete", json={"model": name})


def test_tool_capability_and_tag(client):
    shown = client.post("/api/show", json={"model": "smol-tools"}).json()
    assert "tools" in shown["capabilities"]
    r = client.post("/api/chat", json={"model": "smol-plain", "messages": QUESTION, "tools": [WEATHER]})
    assert r.status_code == 400
    assert r.json() == {"error": "registry.ollama.ai/library/smol-plain:latest does not support tools"}


def test_constrained_output_becomes_a_tool_call_streamed_and_not(client):
    body = {"model": "smol-tools", "messages": QUESTION, "tools": [WEATHER], "format": CALL_SCHEMA}
    r = client.post("/api/chat", json={**body, "stream": False, "options": GREEDY})
    assert r.status_code == 200, r.text
    msg = r.json()["message"]
    assert msg["content"] == ""
    [call] = msg["tool_calls"]
    assert call["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}
    assert call["id"].startswith("call_") and len(call["id"]) == 13

    lines = [
        json.loads(x) for x in client.post("/api/chat", json={**body, "options": GREEDY}).text.splitlines()
    ]
    with_calls = [x for x in lines if x["message"].get("tool_calls")]
    assert len(with_calls) == 1 and not with_calls[0]["done"]  # sent whole, as soon as parsed
    assert with_calls[0]["message"]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    assert lines[-1]["done"] and "".join(x["message"]["content"] for x in lines) == ""

    # The call goes back into the history; the tool result follows; the model answers.
    history = [
        *QUESTION,
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "18 degrees and sunny", "tool_name": "get_weather"},
    ]
    rendered = client.post(
        "/api/chat",
        json={"model": "smol-tools", "messages": history, "tools": [WEATHER], "_debug_render_only": True},
    ).json()["_debug_info"]["rendered_template"]
    assert (
        '<|im_start|>assistant\n{"name": "get_weather", "arguments": {"city":"Paris"}}<|im_end|>' in rendered
    )
    assert rendered.endswith("<|im_start|>tool\n18 degrees and sunny<|im_end|>\n<|im_start|>assistant\n")
    r = client.post(
        "/api/chat",
        json={
            "model": "smol-tools",
            "messages": history,
            "tools": [WEATHER],
            "stream": False,
            "options": GREEDY,
        },
    )
    assert r.status_code == 200 and r.json()["done"]


def test_free_chat_with_tools_is_well_formed_through_the_official_client(client, shim_url):
    c = ollama.Client(host=shim_url)
    for model in ("smol-tagged", "smol-tools"):
        r = c.chat(model=model, messages=QUESTION, tools=[WEATHER], options=GREEDY)
        assert r.done and r.message.role == "assistant"
        for call in r.message.tool_calls or []:
            assert call.function.name == "get_weather" and isinstance(call.function.arguments, dict)
        assert r.message.content or r.message.tool_calls
        parts = list(c.chat(model=model, messages=QUESTION, tools=[WEATHER], options=GREEDY, stream=True))
        assert parts[-1].done
        assert "".join(p.message.content for p in parts) == r.message.content


def test_openai_client_gets_tool_calls(client, shim_url):
    import openai

    oai = openai.OpenAI(base_url=f"{shim_url}/v1", api_key="ignored")
    kw = dict(
        model="smol-tools",
        messages=QUESTION,
        tools=[WEATHER],
        response_format={"type": "json_schema", "json_schema": {"name": "call", "schema": CALL_SCHEMA}},
        temperature=0,
        max_tokens=64,
    )
    r = oai.chat.completions.create(**kw)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"} and call.id.startswith("call_")

    chunks = list(oai.chat.completions.create(**kw, stream=True))
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert [json.loads(tc.function.arguments) for tc in calls] == [{"city": "Paris"}]
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["tool_calls"]

    # The answer to the call goes back with role "tool" and tool_call_id.
    history = [
        *QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees"},
    ]
    r = oai.chat.completions.create(model="smol-tools", messages=history, tools=[WEATHER], max_tokens=16)
    assert r.choices[0].message.role == "assistant"


def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
      city: The name of the city
    """
    return "sunny"


def _asked(city: str) -> dict:
    return {"role": "user", "content": f"Weather in {city}?"}


def _called(city: str) -> dict:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": city}}}],
    }


# A few-shot history in which the assistant answers each question with a call: the
# 135M model continues the pattern (zero-shot it answers in prose).
FEW_SHOT = [_asked("London"), _called("London"), _asked("Berlin"), _called("Berlin"), _asked("Paris")]


def test_the_default_model_calls_a_tool_through_ollama_python(shim_url):
    shown = ollama.Client(host=shim_url).show(MODEL)
    assert "tools" in shown.capabilities
    r = ollama.Client(host=shim_url).chat(
        model=MODEL, messages=FEW_SHOT, tools=[get_weather], options={"temperature": 0, "num_predict": 60}
    )
    (call,) = r.message.tool_calls
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "Paris"})


def test_the_default_model_calls_a_tool_through_openai(shim_url):
    import openai

    def oa(m: dict) -> dict:
        if not m.get("tool_calls"):
            return m
        calls = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {
                    "name": c["function"]["name"],
                    "arguments": json.dumps(c["function"]["arguments"]),
                },
            }
            for i, c in enumerate(m["tool_calls"])
        ]
        return {"role": "assistant", "content": None, "tool_calls": calls}

    client = openai.OpenAI(base_url=f"{shim_url}/v1", api_key="x")
    r = client.chat.completions.create(
        model=MODEL, messages=[oa(m) for m in FEW_SHOT], tools=[WEATHER], temperature=0, max_tokens=60
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"city": "Paris"}
