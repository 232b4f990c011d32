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

from __future__ import annotations

import datetime as _dt
import json as _json
import re
from dataclasses import dataclass, field
from typing import Any

from tokenwire_common import gojson


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


@dataclass
class _Text:
    text: str


@dataclass
class _Cmd:
    args: list[
        Any
    ]  # operands: ("field", names), ("var", name, names), ("lit", v), ("ident", name), ("pipe", P)


@dataclass
class _Pipe:
    decl: list[str] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[_Cmd] = field(default_factory=list)


@dataclass
class _Action:
    pipe: _Pipe


@dataclass
class _Block:
    kind: str  # if | range | with
    pipe: _Pipe
    body: list[Any]
    else_body: list[Any] | None = None


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass
class _Ctl:
    kind: str  # break | continue


# ---------------------------------------------------------------- parsing


def _split(text: str) -> list[tuple[str, str]]:
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


class _Parser:
    def __init__(self, pieces: list[tuple[str, str]]):
        self.pieces = pieces
        self.i = 0

    def parse_list(self, stops: tuple[str, ...]) -> tuple[list[Any], str, list[_Tok]]:
        nodes: list[Any] = []
        while self.i < len(self.pieces):
            kind, body = self.pieces[self.i]
            self.i += 1
            if kind == "text":
                nodes.append(_Text(body))
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
                nodes.append(_Ctl(head.value))
            elif head.kind == "ident" and head.value in ("define", "template", "block"):
                raise TemplateError(f"template: {head.value} is not supported")
            else:
                nodes.append(_Action(_parse_pipe(toks)))
        if stops:
            raise TemplateError("template: unexpected EOF")
        return nodes, "", []

    def parse_block(self, kind: str, toks: list[_Tok]) -> _Block:
        pipe = _parse_pipe(toks)
        body, stop, rest = self.parse_list(("end", "else"))
        block = _Block(kind, pipe, body)
        if stop == "else":
            if rest and rest[0].kind == "ident" and rest[0].value in ("if", "with"):
                # `else if` / `else with`: a nested block that shares our {{end}}.
                block.else_body = [self.parse_block(rest[0].value, rest[1:])]
            else:
                block.else_body, stop, _ = self.parse_list(("end",))
        return block


def _parse_pipe(toks: list[_Tok]) -> _Pipe:
    pipe = _Pipe()
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
        pipe.cmds.append(_Cmd(_parse_operands(c)))
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


class GoJSON:
    """A value Go prints as JSON (Ollama's Tools and tool-call Arguments types)."""

    def __init__(self, value: Any):
        self.value = value

    def __str__(self) -> str:
        return go_json(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self):
        return iter(self.value)

    def __getitem__(self, key):
        return self.value[key]

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, GoJSON) else other)

    __hash__ = None  # type: ignore[assignment]


def _plain(v: Any) -> Any:
    if isinstance(v, GoJSON):
        return _plain(v.value)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def go_json(v: Any) -> str:
    """encoding/json.Marshal: compact, HTML-escaped."""
    return gojson.dumps(_plain(v))


def truthy(v: Any) -> bool:
    if isinstance(v, GoJSON):
        v = v.value
    if v is None or v is False:
        return False
    if isinstance(v, int | float) and not isinstance(v, bool):
        return v != 0
    if isinstance(v, str | list | tuple | dict):
        return len(v) > 0
    return True


def go_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    if isinstance(v, list | tuple):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k])}" for k in sorted(v)) + "]"
    return str(v)


def _json_key(go_name: str) -> str:
    """Go field name -> Ollama's JSON key (ToolCalls -> tool_calls, ID -> id, Defs -> $defs)."""
    if go_name == "Defs":
        return "$defs"
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", go_name).lower()


def _wrap(v: Any) -> Any:
    return GoJSON(v) if isinstance(v, dict | list) else v


def _get_field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, GoJSON):
        # Values decoded from API JSON (tools, tool calls): Go field names map to JSON keys.
        inner = obj.value
        if not isinstance(inner, dict):
            return None
        return _wrap(inner[name] if name in inner else inner.get(_json_key(name)))
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _ts_type(v: Any) -> str:
    # Ollama's toTypeScriptType for tool parameter schemas (a JSON-schema type string or list).
    t = _get_field(v, "type") if not isinstance(v, str | list) else v
    types = t if isinstance(t, list) else [t]
    mapping = {
        "string": "string",
        "number": "number",
        "integer": "number",
        "boolean": "boolean",
        "array": "any[]",
        "object": "Record<string, any>",
        "null": "null",
    }
    out = [mapping.get(x, "any") for x in types if x]
    return " | ".join(out) or "any"


def _printf(fmt: str, *args: Any) -> str:
    it = iter(args)

    def repl(m: re.Match) -> str:
        if m.group(0) == "%%":
            return "%"
        v = next(it, None)
        verb = m.group(1)
        if verb == "q":
            return _json.dumps(go_str(v))
        if verb == "d":
            return str(int(v or 0))
        return go_str(v)

    return re.sub(r"%%|%[-+# 0-9.]*([a-zA-Z])", repl, fmt)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, GoJSON):
        a = a.value
    if isinstance(b, GoJSON):
        b = b.value
    try:
        return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
    except TypeError:
        raise TemplateError(f"template: error calling {op}: incompatible types for comparison") from None


def _index(v: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(v, GoJSON):
            v = v.value
        if isinstance(v, dict):
            v = v.get(k)
        elif isinstance(v, list | tuple | str):
            if not isinstance(k, int) or not 0 <= k < len(v):
                raise TemplateError(f"template: error calling index: index out of range: {k}")
            v = v[k]
        else:
            raise TemplateError("template: error calling index: can't index item")
    return v


def _slice(v: Any, *idx: Any) -> Any:
    if isinstance(v, GoJSON):
        v = v.value
    start = idx[0] if idx else 0
    end = idx[1] if len(idx) > 1 else len(v)
    if not 0 <= start <= end <= len(v):
        raise TemplateError("template: error calling slice: index out of range")
    return v[start:end]


_FUNCS: dict[str, Any] = {
    "not": lambda a: not truthy(a),
    "len": lambda a: len(a.value if isinstance(a, GoJSON) else a) if a is not None else 0,
    "index": _index,
    "slice": _slice,
    "json": go_json,
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": _printf,
    "eq": lambda a, *bs: any(_plain(a) == _plain(b) for b in bs),
    "ne": lambda a, b: _plain(a) != _plain(b),
    "lt": lambda a, b: _compare("lt", a, b),
    "le": lambda a, b: _compare("le", a, b),
    "gt": lambda a, b: _compare("gt", a, b),
    "ge": lambda a, b: _compare("ge", a, b),
    "currentDate": lambda *a: _dt.date.today().strftime("%Y-%m-%d"),
    "yesterdayDate": lambda *a: (_dt.date.today() - _dt.timedelta(days=1)).strftime("%Y-%m-%d"),
    "toTypeScriptType": _ts_type,
}


# ---------------------------------------------------------------- execution


class _Scope:
    def __init__(self, root: Any):
        self.frames: list[dict[str, Any]] = [{"$": root}]

    def push(self) -> None:
        self.frames.append({})

    def pop(self) -> None:
        self.frames.pop()

    def get(self, name: str) -> Any:
        for f in reversed(self.frames):
            if name in f:
                return f[name]
        raise TemplateError(f"template: undefined variable: {name}")

    def declare(self, name: str, v: Any) -> None:
        self.frames[-1][name] = v

    def assign(self, name: str, v: Any) -> None:
        for f in reversed(self.frames):
            if name in f:
                f[name] = v
                return
        raise TemplateError(f"template: undefined variable: {name}")


class Template:
    def __init__(self, source: str):
        self.source = source
        nodes, _, _ = _Parser(_split(source)).parse_list(())
        self.nodes = nodes
        _check(nodes, set(_FUNCS) | {"and", "or"}, in_range=False)

    def render(self, data: Any) -> str:
        out: list[str] = []
        self._run(self.nodes, data, _Scope(data), out)
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: _Scope, out: list[str]) -> None:
        for n in nodes:
            if isinstance(n, _Text):
                out.append(n.text)
            elif isinstance(n, _Action):
                v = self._pipe(n.pipe, dot, scope)
                if not n.pipe.decl:
                    out.append(go_str(v))
            elif isinstance(n, _Ctl):
                raise _Break() if n.kind == "break" else _Continue()
            else:
                self._block(n, dot, scope, out)

    def _block(self, b: _Block, dot: Any, scope: _Scope, out: list[str]) -> None:
        scope.push()
        try:
            if b.kind == "range":
                self._range(b, dot, scope, out)
                return
            v = self._pipe(b.pipe, dot, scope, declare_range=False)
            if truthy(v):
                self._run(b.body, v if b.kind == "with" else dot, scope, out)
            elif b.else_body is not None:
                self._run(b.else_body, dot, scope, out)
        finally:
            scope.pop()

    def _range(self, b: _Block, dot: Any, scope: _Scope, out: list[str]) -> None:
        decl, b.pipe.decl = b.pipe.decl, []
        try:
            seq = self._pipe(b.pipe, dot, scope)
        finally:
            b.pipe.decl = decl
        wrapped = isinstance(seq, GoJSON)
        if wrapped:
            seq = seq.value
        if isinstance(seq, dict):
            items = [(k, seq[k]) for k in sorted(seq)]
        elif isinstance(seq, int) and not isinstance(seq, bool):
            items = [(i, i) for i in range(seq)]
        else:
            items = list(enumerate(seq or []))
        if not items:
            if b.else_body is not None:
                self._run(b.else_body, dot, scope, out)
            return
        for k, v in items:
            if wrapped:
                v = _wrap(v)
            if len(decl) == 1:
                scope.declare(decl[0], v)
            elif len(decl) == 2:
                scope.declare(decl[0], k)
                scope.declare(decl[1], v)
            try:
                self._run(b.body, v, scope, out)
            except _Continue:
                continue
            except _Break:
                break

    def _pipe(self, p: _Pipe, dot: Any, scope: _Scope, declare_range: bool = True) -> Any:
        v: Any = None
        first = True
        for cmd in p.cmds:
            v = self._cmd(cmd, dot, scope, None if first else (v,))
            first = False
        if p.decl:
            for name in p.decl:
                (scope.assign if p.is_assign else scope.declare)(name, v)
        return v

    def _cmd(self, cmd: _Cmd, dot: Any, scope: _Scope, piped: tuple | None) -> Any:
        head = cmd.args[0]
        if head[0] == "ident":
            name = head[1]
            if name in ("and", "or"):
                # Short-circuit, returning the deciding operand, as Go does.
                args = cmd.args[1:]
                vals = [lambda a=a: self._operand(a, dot, scope) for a in args]
                if piped:
                    vals.append(lambda: piped[0])
                v: Any = None
                for get in vals:
                    v = get()
                    if truthy(v) != (name == "and"):
                        return v
                return v
            fn = _FUNCS.get(name)
            if fn is None:
                raise TemplateError(f'template: function "{name}" not defined')
            args = [self._operand(a, dot, scope) for a in cmd.args[1:]]
            if piped:
                args.append(piped[0])
            try:
                return fn(*args)
            except TypeError as e:
                raise TemplateError(f"template: error calling {name}: {e}") from None
        if len(cmd.args) > 1 or piped:
            raise TemplateError(f"template: can't give argument to non-function {head}")
        return self._operand(head, dot, scope)

    def _operand(self, op: Any, dot: Any, scope: _Scope) -> Any:
        kind = op[0]
        if kind == "lit":
            return op[1]
        if kind == "field":
            v = dot
            for name in op[1]:
                v = _get_field(v, name)
            return v
        if kind == "var":
            return scope.get(op[1])
        if kind == "pipe":
            return self._pipe(op[1], dot, scope)
        if kind == "chain":
            v = self._operand(op[1], dot, scope)
            for name in op[2]:
                v = _get_field(v, name)
            return v
        if kind == "ident":
            return self._cmd(_Cmd([op]), dot, scope, None)
        raise TemplateError(f"template: bad operand {op}")


def _check(nodes: list[Any], funcs: set[str], in_range: bool) -> None:
    """Parse-time checks Go does: unknown functions, break/continue outside range."""

    def pipe(p: _Pipe) -> None:
        for c in p.cmds:
            for a in c.args:
                if a[0] == "ident" and a[1] not in funcs:
                    raise TemplateError(f'template: function "{a[1]}" not defined')
                if a[0] == "pipe":
                    pipe(a[1])

    for n in nodes:
        if isinstance(n, _Action):
            pipe(n.pipe)
        elif isinstance(n, _Ctl) and not in_range:
            raise TemplateError(f"template: {{{{{n.kind}}}}} outside {{{{range}}}}")
        elif isinstance(n, _Block):
            pipe(n.pipe)
            _check(n.body, funcs, in_range or n.kind == "range")
            if n.else_body:
                _check(n.else_body, funcs, in_range)


def parse(source: str) -> Template:
    return Template(source)
