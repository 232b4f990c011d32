"""Go template renderer: golden prompts Ollama renders for its built-in templates, and features."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.template.gotemplate import Template, TemplateError
from server.template.prompt import ChatMessage, prepare, render

# Ollama's built-in templates and the prompts Ollama renders for them (MIT, see LICENSE there).
TEMPLATES = Path(__file__).resolve().parents[1] / "testdata" / "ollama-templates"

HELLO = ChatMessage("user", "Hello, how are you?")
CASES = {
    "user": [HELLO],
    "user-assistant-user": [
        HELLO,
        ChatMessage("assistant", "I'm doing great. How can I help you today?"),
        ChatMessage("user", "I'd like to show off how chat templating works!"),
    ],
}
CASES["system-user-assistant-user"] = [
    ChatMessage("system", "You are a helpful assistant."),
    *CASES["user-assistant-user"],
]

GOLDEN = sorted(
    (t.name, case)
    for t in TEMPLATES.glob("*.gotmpl")
    for case in CASES
    if (TEMPLATES / "testdata" / t.name / case).is_file()
)


def test_goldens_cover_the_main_template_families():
    names = {name for name, _ in GOLDEN}
    assert {
        "chatml.gotmpl",
        "llama3-instruct.gotmpl",
        "mistral-instruct.gotmpl",
        "gemma-instruct.gotmpl",
        "command-r.gotmpl",
    } <= names
    assert len(GOLDEN) >= 50


@pytest.mark.parametrize(("name", "case"), GOLDEN)
def test_golden_prompt(name, case):
    template = prepare((TEMPLATES / name).read_text())
    expected = (TEMPLATES / "testdata" / name / case).read_text()
    assert render(template, CASES[case]) == expected


def r(src: str, data: object) -> str:
    return Template(src).render(data)


def test_trim_markers_and_conditionals():
    assert r("a  {{- if .X }} yes {{- else }} no {{- end -}}  b", {"X": 1}) == "a yesb"
    assert (
        r("{{ if and .A .B }}1{{ else if or .C .A }}2{{ else }}3{{ end }}", {"A": 1, "B": 0, "C": 0}) == "2"
    )
    assert r("{{ if not .A }}empty{{ end }}", {"A": []}) == "empty"
    assert r('{{ if eq .R "user" "tool" }}u{{ end }}', {"R": "tool"}) == "u"


def test_range_with_variables_index_slice_len():
    data = {"M": [{"R": "a"}, {"R": "b"}, {"R": "c"}]}
    assert r("{{ range $i, $m := .M }}{{ $i }}{{ $m.R }}{{ end }}", data) == "0a1b2c"
    assert r("{{ range .M }}{{ .R }}{{ $.X }}{{ end }}", {**data, "X": "!"}) == "a!b!c!"
    assert r("{{ len .M }} {{ (index .M 1).R }} {{ len (slice .M 1) }}", data) == "3 b 2"
    assert r("{{ range $i, $m := .M }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $m.R }}{{ end }}", data) == "a"
    assert r("{{ range .E }}x{{ else }}none{{ end }}", {"E": []}) == "none"
    assert r("{{ $x := 1 }}{{ range .M }}{{ $x = .R }}{{ end }}{{ $x }}", data) == "c"


def test_with_json_and_printf():
    assert r("{{ with .T }}[{{ . }}]{{ end }}", {"T": "v"}) == "[v]"
    assert r("{{ json .T }}", {"T": {"a": "<b>"}}) == '{"a":"\\u003cb\\u003e"}'
    assert r('{{ printf "%s=%d" .K .V }}', {"K": "n", "V": 3}) == "n=3"


def test_missing_fields_are_zero_values():
    assert r("[{{ .Nope }}]", {}) == "[]"
    assert r("{{ if .Nope.Deeper }}x{{ else }}y{{ end }}", {}) == "y"


def test_tools_render_as_json_and_by_field():
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    src = "{{ range .Tools }}{{ .Function.Name }}{{ end }} {{ .Tools }}"
    template = prepare("{{ range .Messages }}{{ .Content }}{{ end }}" + src)
    out = render(template, [ChatMessage("user", "hi")], tools=tools)
    tools_json = '[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]'
    assert out == "higet_weather " + tools_json


def test_tool_calls_in_messages():
    template = prepare(
        "{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Name }}{{ .Function.Arguments }}"
        "{{ end }}{{ end }}"
    )
    call = {"function": {"name": "f", "arguments": {"x": 1}}}
    assert render(template, [ChatMessage("assistant", "", tool_calls=[call])]) == 'f{"x":1}'


def test_legacy_template_is_cut_after_response():
    template = prepare("{{ if .System }}S:{{ .System }} {{ end }}U:{{ .Prompt }} A:{{ .Response }}</s>")
    msgs = [
        ChatMessage("system", "sys"),
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "a1"),
        ChatMessage("user", "q2"),
    ]
    assert render(template, msgs) == "S:sys U:q1 A:a1</s>U:q2 A:"


def test_default_template_gets_response_appended():
    assert render(prepare("{{ .Prompt }}"), [ChatMessage("user", "hi")]) == "hi"


@pytest.mark.parametrize(
    "src",
    ["{{ if .X }}", "{{ end }}", "{{ nosuchfunc .X }}", "{{ .X ", "{{ break }}", '{{ define "x" }}{{ end }}'],
)
def test_parse_errors(src):
    with pytest.raises(TemplateError):
        Template(src)
