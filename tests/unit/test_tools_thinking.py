"""Tool-call and thinking parsing on recorded model outputs, for several template styles."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from server.template.prompt import ChatMessage, prepare, render
from server.template.thinking import ThinkingParser, thinking_tags
from server.template.tools import ToolParser, tool_tag

DATA = Path(__file__).resolve().parents[1] / "testdata"
TOOL_TEMPLATES = DATA / "tool-templates"

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "required": ["city"],
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Time now",
        "parameters": {"type": "object", "properties": {}},
    },
}
TOOLS = [WEATHER, TIME]


def template(name: str):
    if name == "command-r":
        return prepare((DATA / "ollama-templates" / "command-r.gotmpl").read_text())
    return prepare((TOOL_TEMPLATES / f"{name}.gotmpl").read_text().rstrip("\n"))


# What models of each family print when they call tools (recorded from their chat formats).
RECORDED = {
    "qwen2.5": (
        "<tool_call>",
        'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n'
        '</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>',
        "Let me check.\n",
    ),
    "llama3.1": (
        "{",
        '{"name": "get_weather", "parameters": {"city": "Paris", "unit": "c"}}; '
        '{"name": "get_time", "parameters": {}}',
        "",
    ),
    "mistral-v0.3": (
        "[TOOL_CALLS] [",
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}, '
        '{"name": "get_time", "arguments": {}}]',
        "",
    ),
    "command-r": (
        "Action: ```json\n[",
        'Action: ```json\n[\n    {\n        "tool_name": "get_weather",\n'
        '        "parameters": {"city": "Paris", "unit": "c"}\n    },\n'
        '    {\n        "tool_name": "get_time",\n        "parameters": {}\n    }\n]```',
        "",
    ),
}


def run_parser(parser, text: str, chunks: list[str]) -> tuple[list[dict], str]:
    calls, content = [], ""
    for piece in chunks:
        c, t = parser.add(piece)
        calls += c
        content += t
    return calls, content + parser.flush()


def split_randomly(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 6)
        out.append(text[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_tool_tag_is_read_from_the_template(name):
    assert tool_tag(template(name)) == RECORDED[name][0]


@pytest.mark.parametrize("name", sorted(RECORDED))
@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_recorded_tool_calls_parse_whole_and_streamed(name, seed):
    tag, output, content = RECORDED[name]
    chunks = [output] if seed is None else split_randomly(output, seed)
    calls, text = run_parser(ToolParser(tag, TOOLS), output, chunks)
    assert text == content
    assert [c["function"] for c in calls] == [
        {"index": 0, "name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}},
        {"index": 1, "name": "get_time", "arguments": {}},
    ]
    assert all(c["id"].startswith("call_") and len(c["id"]) == 13 for c in calls)
    assert calls[0]["id"] != calls[1]["id"]


def test_plain_answers_stay_content():
    for tag in ("<tool_call>", "{", "[TOOL_CALLS] ["):
        calls, text = run_parser(
            ToolParser(tag, TOOLS), "", split_randomly("It is sunny in Paris {today}.", 5)
        )
        assert (calls, text) == ([], "It is sunny in Paris {today}.")


def test_json_tag_only_counts_at_the_start():
    text = 'Sure: {"name": "get_time", "parameters": {}}'
    assert run_parser(ToolParser("{", TOOLS), text, [text]) == ([], text)


def test_tag_without_a_valid_call_is_returned_as_content():
    text = "<tool_call>\nnot json\n</tool_call>"
    assert run_parser(ToolParser("<tool_call>", TOOLS), text, split_randomly(text, 9)) == ([], text)


def test_arguments_must_match_the_tool_schema():
    # "town" is no parameter of get_weather and "city" is required: no call.
    text = '<tool_call>{"name": "get_weather", "arguments": {"town": "Paris"}}</tool_call>'
    calls, _ = run_parser(ToolParser("<tool_call>", [WEATHER]), text, [text])
    assert calls == []


def test_tool_templates_render_tools_and_calls():
    messages = [
        ChatMessage("user", "Weather in Paris?"),
        ChatMessage(
            "assistant",
            tool_calls=[{"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}],
        ),
        ChatMessage("tool", "18 C", tool_name="get_weather"),
    ]
    out = render(template("qwen2.5"), messages, tools=TOOLS)
    assert '{"type": "function", "function": {"name":"get_weather",' in out
    assert '<tool_call>\n{"name": "get_weather", "arguments": {"city":"Paris"}}\n</tool_call>' in out
    assert out.endswith("<tool_response>\n18 C\n</tool_response><|im_end|>\n<|im_start|>assistant\n")
    mistral = render(template("mistral-v0.3"), messages[:1], tools=TOOLS)
    assert mistral.startswith('[AVAILABLE_TOOLS][{"type":"function","function":{"name":"get_weather"')
    assert mistral.endswith("[/AVAILABLE_TOOLS][INST]Weather in Paris?[/INST]")


# ---------------------------------------------------------------- thinking


def test_thinking_tags_are_inferred_from_the_template():
    assert thinking_tags(template("qwen3")) == ("<think>", "</think>")
    assert thinking_tags(template("qwen2.5")) is None


@pytest.mark.parametrize("seed", [None, 4, 5, 6])
def test_thinking_is_split_from_content(seed):
    output = "<think>\nThe user greets me.\nI greet back.\n</think>\n\nHello there!"
    chunks = [output] if seed is None else split_randomly(output, seed)
    parser = ThinkingParser("<think>", "</think>")
    thought = content = ""
    for c in chunks:
        t, x = parser.add(c)
        thought, content = thought + t, content + x
    t, x = parser.flush()
    assert (thought + t, content + x) == ("The user greets me.\nI greet back.", "Hello there!")


def test_thinking_when_the_prompt_opens_the_tag_and_no_thinking_at_all():
    parser = ThinkingParser("<think>", "</think>", prompt="<|im_start|>assistant\n<think>\n")
    assert parser.add("hmm</think>ok") == ("hmm", "ok")
    plain = ThinkingParser("<think>", "</think>")
    assert plain.add("Hi") == ("", "Hi")
    assert plain.add(" <think>x</think>") == ("", " <think>x</think>")


def test_qwen3_template_renders_think_switches():
    msgs = [ChatMessage("user", "Hi")]
    assert "Hi /think<|im_end|>" in render(template("qwen3"), msgs, think=True)
    off = render(template("qwen3"), msgs, think=False)
    assert "Hi /no_think<|im_end|>" in off and off.endswith("<think>\n\n</think>\n\n")
    assert "/think" not in render(template("qwen3"), msgs)


# ---------------------------------------------------------------- Jinja chat_template


def test_jinja_chat_template_renders_in_a_sandbox_with_tools():
    from server.errors import InvalidArgument
    from server.template.jinja import JinjaChatTemplate

    source = (
        "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}"
        "{% if m.tool_calls %}{% for c in m.tool_calls %}<tool_call>{{ c.function | tojson }}</tool_call>"
        "{% endfor %}{% endif %}{{ eos_token }}{% endfor %}"
        "{% if tools %}<tools>{{ tools | tojson }}</tools>{% endif %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    t = JinjaChatTemplate(source, "<s>", "</s>")
    assert t.supports("tools") and not t.supports("thinking") and t.tool_tag() == "<tool_call>"
    call = {"function": {"index": 0, "name": "get_time", "arguments": {}}}
    out = t.render([ChatMessage("user", "hi"), ChatMessage("assistant", tool_calls=[call])], tools=[TIME])
    assert out.startswith("<s><|user|>hi</s><|assistant|><tool_call>{")
    assert '"name": "get_time"' in out and out.endswith("</tools><|assistant|>")

    with pytest.raises(InvalidArgument, match="chat template error: no system"):
        JinjaChatTemplate("{{ raise_exception('no system') }}").render([])
    # The sandbox refuses attribute access to Python internals.
    with pytest.raises(InvalidArgument, match="unsafe"):
        JinjaChatTemplate("{{ messages.__class__.__mro__ }}{{ ''.__class__.__subclasses__() }}").render([])
