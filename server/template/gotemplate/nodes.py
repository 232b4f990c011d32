"""The parse tree of a Go template, public and typed: what template-reading code
(capabilities, tool and thinking tags, prompt cutting) walks.

A template is a list of nodes: Text, Action ({{ pipeline }}), Block (if, range, with,
with their bodies) and Control ({{break}}, {{continue}}). A Pipeline is commands joined
by `|`; a Command is its operands: ("field", names), ("var", name, names), ("lit", v),
("ident", function name) or ("pipe", Pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Text:
    text: str


@dataclass
class Command:
    args: list[
        Any
    ]  # operands: ("field", names), ("var", name, names), ("lit", v), ("ident", name), ("pipe", P)


@dataclass
class Pipeline:
    decl: list[str] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[Command] = field(default_factory=list)


@dataclass
class Action:
    pipe: Pipeline


@dataclass
class Block:
    kind: str  # if | range | with
    pipe: Pipeline
    body: list[Any]
    else_body: list[Any] | None = None


@dataclass
class Control:
    kind: str  # break | continue


Node = Text | Action | Block | Control
