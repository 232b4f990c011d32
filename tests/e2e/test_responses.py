"""/v1/responses with the official openai SDK (plain, streamed, tools) and with
langchain-openai's use_responses_api=True, live on the default model."""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import MODEL

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather in a city",
    "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def client(shim_url):
    return openai.OpenAI(base_url=f"{shim_url}/v1", api_key="ignored")


def test_a_plain_response(client):
    r = client.responses.create(model=MODEL, input="Name a colour.", instructions="Be brief.",
                                max_output_tokens=8, temperature=0)  # fmt: skip
    assert r.object == "response" and r.status in ("completed", "incomplete")
    assert r.output_text.strip() and r.output[0].type == "message"
    assert r.usage.input_tokens > 0 and 0 < r.usage.output_tokens <= 8


def test_a_streamed_response(client):
    stream = client.responses.create(model=MODEL, input="Name a colour.", max_output_tokens=8,
                                     temperature=0, stream=True)  # fmt: skip
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text and events[-1].response.output[0].content[0].text == text
    with client.responses.stream(model=MODEL, input="Name a colour.", max_output_tokens=8) as helper:
        final = helper.get_final_response()
    assert final.output_text.strip()


def test_tools_through_responses(client):
    def asked(city):
        return {"role": "user", "content": f"Weather in {city}?"}

    def called(city, n):
        return {"type": "function_call", "call_id": f"call_{n}", "name": "get_weather",
                "arguments": json.dumps({"city": city})}  # fmt: skip

    history = [asked("London"), called("London", 1), asked("Berlin"), called("Berlin", 2), asked("Paris")]
    r = client.responses.create(
        model=MODEL, input=history, tools=[WEATHER], temperature=0, max_output_tokens=60
    )
    calls = [item for item in r.output if item.type == "function_call"]
    assert calls and calls[0].name == "get_weather" and json.loads(calls[0].arguments) == {"city": "Paris"}


def test_errors_use_openais_envelope(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.create(model="no-such-model", input="hi")
    assert "not found" in e.value.message


def test_langchain_with_the_responses_api(shim_url):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{shim_url}/v1", api_key="ignored", model=MODEL, use_responses_api=True,
                     max_tokens=8, temperature=0)  # fmt: skip
    reply = llm.invoke("Name a colour.")
    assert reply.text.strip()
    streamed = "".join(chunk.text for chunk in llm.stream("Name a colour."))
    assert streamed.strip()
