"""A renderer for the Go text/template subset that Ollama's TEMPLATE layers use.

Pure: parse(text) -> Template, Template.render(data) -> str. Supports text and
actions with trim markers ({{- and -}}), comments, fields (.A.B), variables ($, $x,
declarations and assignment), literals, parenthesised pipelines, `|` pipes,
if/else if/else, range (with $i, $v :=, else, break, continue), with/else, and the
functions Ollama templates call: and or not eq ne lt le gt ge len index slice json
print printf println currentDate yesterdayDate toTypeScriptType.

Go semantics reproduced where templates can see them: missing fields are the zero
value (Ollama runs templates with missingkey=zero over structs), truthiness of empty
values, `and`/`or` returning an operand, json escaping <, > and & like encoding/json.
"""

from server.template.gotemplate.execute import Template, parse
from server.template.gotemplate.nodes import Action, Block, Command, Control, Node, Pipeline, Text
from server.template.gotemplate.parse import TemplateError
from server.template.gotemplate.values import GoJSON, go_json, go_str, truthy

__all__ = [
    "Action",
    "Block",
    "Command",
    "Control",
    "GoJSON",
    "Node",
    "Pipeline",
    "Template",
    "TemplateError",
    "Text",
    "go_json",
    "go_str",
    "parse",
    "truthy",
]
