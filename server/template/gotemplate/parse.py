"""Go text/template source -> nodes: the lexer, the parser, and Go's parse-time checks. Pure."""

from __future__ import annotations

import json as _json
import re
from dataclasses import dataclass
from typing import Any

from server.template.gotemplate.nodes import Action, Block, Command, Control, Pipeline, Text


class TemplateError(ValueError):
    """Parse or execution error; the message follows Go's `template: ...` style."""


# ---------------------------------------------------------------- lexing


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<char>'(?:[^'\\]|\\.)')
    | (?P<num>-?(?:0x[0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+))
    | (?P<decl>:=)
    | (?P<assign>=)
    | (?P<var>\$[A-Za-z0-9_]*)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<pipe>\|)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<comma>,)
    )""",
    re.X,
)
_WS = " \t\r\n"


@dataclass
class _Tok:
    kind: str
    value: str


def _tokenize(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    src = src.rstrip(_WS)
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"template: unexpected {src[pos:].strip()[:20]!r} in command")
        kind = m.lastgroup or ""
        value = m.group(kind)
        # A field directly after `)` or a variable is a field access on that value.
        if kind == "field" and toks and toks[-1].kind in ("rparen", "var") and src[m.start()] == ".":
            kind = "chain"
        toks.append(_Tok(kind, value))
        pos = m.end()
    return toks


# ---------------------------------------------------------------- AST


def split(text: str) -> list[tuple[str, str]]:
    """Text and action pieces, with trim markers applied."""
    out: list[tuple[str, str]] = []
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(text):
        chunk = text[pos : m.start()]
        if trim_next:
            chunk = chunk.lstrip(_WS)
        if m.group(1):
            chunk = chunk.rstrip(_WS)
        if chunk:
            out.append(("text", chunk))
        body = m.group(2)
        if body.strip().startswith("/*"):
            if not body.strip().endswith("*/"):
                raise TemplateError("template: unclosed comment")
        else:
            out.append(("action", body))
        trim_next = bool(m.group(3))
        pos = m.end()
    rest = text[pos:]
    if trim_next:
        rest = rest.lstrip(_WS)
    if "{{" in rest:
        raise TemplateError("template: unclosed action")
    if rest:
        out.append(("text", rest))
    return out


class Parser:
    def __init__(self, pieces: list[tuple[str, str]]):
        self.pieces = pieces
        self.i = 0

    def parse_list(self, stops: tuple[str, ...]) -> tuple[list[Any], str, list[_Tok]]:
        nodes: list[Any] = []
        while self.i < len(self.pieces):
            kind, body = self.pieces[self.i]
            self.i += 1
            if kind == "text":
                nodes.append(Text(body))
                continue
            toks = _tokenize(body)
            if not toks:
                raise TemplateError("template: missing value for command")
            head = toks[0]
            if head.kind == "ident" and head.value in ("end", "else"):
                if head.value not in stops:
                    raise TemplateError(f"template: unexpected {{{{{head.value}}}}}")
                return nodes, head.value, toks[1:]
            if head.kind == "ident" and head.value in ("if", "range", "with"):
                nodes.append(self.parse_block(head.value, toks[1:]))
            elif head.kind == "ident" and head.value in ("break", "continue"):
                nodes.append(Control(head.value))
            elif head.kind == "ident" and head.value in ("define", "template", "block"):
                raise TemplateError(f"template: {head.value} is not supported")
            else:
                nodes.append(Action(_parse_pipe(toks)))
        if stops:
            raise TemplateError("template: unexpected EOF")
        return nodes, "", []

    def parse_block(self, kind: str, toks: list[_Tok]) -> Block:
        pipe = _parse_pipe(toks)
        body, stop, rest = self.parse_list(("end", "else"))
        block = Block(kind, pipe, body)
        if stop == "else":
            if rest and rest[0].kind == "ident" and rest[0].value in ("if", "with"):
                # `else if` / `else with`: a nested block that shares our {{end}}.
                block.else_body = [self.parse_block(rest[0].value, rest[1:])]
            else:
                block.else_body, stop, _ = self.parse_list(("end",))
        return block


def _parse_pipe(toks: list[_Tok]) -> Pipeline:
    pipe = Pipeline()
    # Declarations: $x := ..., $i, $v := ..., $x = ...
    j = 0
    names: list[str] = []
    while j < len(toks) and toks[j].kind == "var":
        names.append(toks[j].value)
        if j + 1 < len(toks) and toks[j + 1].kind == "comma":
            j += 2
            continue
        j += 1
        break
    if names and j < len(toks) and toks[j].kind in ("decl", "assign"):
        pipe.decl = names
        pipe.is_assign = toks[j].kind == "assign"
        toks = toks[j + 1 :]
    cmds: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "pipe" and depth == 0:
            cmds.append([])
            continue
        depth += t.kind == "lparen"
        depth -= t.kind == "rparen"
        cmds[-1].append(t)
    for c in cmds:
        if not c:
            raise TemplateError("template: missing command")
        pipe.cmds.append(Command(_parse_operands(c)))
    return pipe


def _parse_operands(toks: list[_Tok]) -> list[Any]:
    ops: list[Any] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "lparen":
            depth, j = 1, i + 1
            while j < len(toks) and depth:
                depth += toks[j].kind == "lparen"
                depth -= toks[j].kind == "rparen"
                j += 1
            if depth:
                raise TemplateError("template: unclosed left paren")
            ops.append(("pipe", _parse_pipe(toks[i + 1 : j - 1])))
            i = j
        elif t.kind == "chain":
            if not ops:
                raise TemplateError("template: unexpected field")
            ops[-1] = ("chain", ops[-1], t.value.split(".")[1:])
            i += 1
        elif t.kind == "field":
            ops.append(("field", [] if t.value == "." else t.value.split(".")[1:]))
            i += 1
        elif t.kind == "var":
            ops.append(("var", t.value, []))
            i += 1
        elif t.kind in ("str", "raw", "char"):
            ops.append(("lit", _json.loads(t.value) if t.kind == "str" else t.value[1:-1]))
            i += 1
        elif t.kind == "num":
            v = t.value
            ops.append(("lit", int(v, 0) if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)", v) else float(v)))
            i += 1
        elif t.kind == "ident":
            lits = {"true": True, "false": False, "nil": None}
            ops.append(("lit", lits[t.value]) if t.value in lits else ("ident", t.value))
            i += 1
        else:
            raise TemplateError(f"template: unexpected {t.value!r} in operand")
    return ops


# ---------------------------------------------------------------- values


def check(nodes: list[Any], funcs: set[str], in_range: bool) -> None:
    """Parse-time checks Go does: unknown functions, break/continue outside range."""

    def pipe(p: Pipeline) -> None:
        for c in p.cmds:
            for a in c.args:
                if a[0] == "ident" and a[1] not in funcs:
                    raise TemplateError(f'template: function "{a[1]}" not defined')
                if a[0] == "pipe":
                    pipe(a[1])

    for n in nodes:
        if isinstance(n, Action):
            pipe(n.pipe)
        elif isinstance(n, Control) and not in_range:
            raise TemplateError(f"template: {{{{{n.kind}}}}} outside {{{{range}}}}")
        elif isinstance(n, Block):
            pipe(n.pipe)
            check(n.body, funcs, in_range or n.kind == "range")
            if n.else_body:
                check(n.else_body, funcs, in_range)
