"""Rendering: a Template's nodes over data, with Go's scoping of variables."""

from __future__ import annotations

from typing import Any

from server.template.gotemplate.nodes import Action, Block, Command, Control, Pipeline, Text
from server.template.gotemplate.parse import Parser, TemplateError, check, split
from server.template.gotemplate.values import FUNCS, GoJSON, get_field, go_str, truthy, wrap


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


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
        nodes, _, _ = Parser(split(source)).parse_list(())
        self.nodes = nodes
        check(nodes, set(FUNCS) | {"and", "or"}, in_range=False)

    def render(self, data: Any) -> str:
        out: list[str] = []
        self._run(self.nodes, data, _Scope(data), out)
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: _Scope, out: list[str]) -> None:
        for n in nodes:
            if isinstance(n, Text):
                out.append(n.text)
            elif isinstance(n, Action):
                v = self._pipe(n.pipe, dot, scope)
                if not n.pipe.decl:
                    out.append(go_str(v))
            elif isinstance(n, Control):
                raise _Break() if n.kind == "break" else _Continue()
            else:
                self._block(n, dot, scope, out)

    def _block(self, b: Block, dot: Any, scope: _Scope, out: list[str]) -> None:
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

    def _range(self, b: Block, dot: Any, scope: _Scope, out: list[str]) -> None:
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
                v = wrap(v)
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

    def _pipe(self, p: Pipeline, dot: Any, scope: _Scope, declare_range: bool = True) -> Any:
        v: Any = None
        first = True
        for cmd in p.cmds:
            v = self._cmd(cmd, dot, scope, None if first else (v,))
            first = False
        if p.decl:
            for name in p.decl:
                (scope.assign if p.is_assign else scope.declare)(name, v)
        return v

    def _cmd(self, cmd: Command, dot: Any, scope: _Scope, piped: tuple | None) -> Any:
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
            fn = FUNCS.get(name)
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
                v = get_field(v, name)
            return v
        if kind == "var":
            return scope.get(op[1])
        if kind == "pipe":
            return self._pipe(op[1], dot, scope)
        if kind == "chain":
            v = self._operand(op[1], dot, scope)
            for name in op[2]:
                v = get_field(v, name)
            return v
        if kind == "ident":
            return self._cmd(Command([op]), dot, scope, None)
        raise TemplateError(f"template: bad operand {op}")


def parse(source: str) -> Template:
    return Template(source)
