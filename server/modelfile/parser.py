"""The Modelfile parser (Ollama parser/parser.go; reference §7). Pure.

One instruction per line, case-insensitive; `#` comment lines; values run to the end
of the line, or are quoted with \"\"\"...\"\"\" or "..." (both may span lines, no escape
processing). Errors carry the line: `(line N): ...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tokenwire_common.options import DEPRECATED_OPTIONS, keys_of

COMMANDS = (
    "from",
    "license",
    "template",
    "system",
    "adapter",
    "draft",
    "renderer",
    "parser",
    "parameter",
    "message",
    "requires",
)
_COMMAND_ERROR = (
    'command must be one of "from", "license", "template", "system", "adapter", "draft", "renderer", '
    '"parser", "parameter", "message", or "requires"'
)
_PARAM_NAME = re.compile(r"[A-Za-z0-9_]+")
_SEMVER = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")

# Ollama's parameter types (api.Options); the CLI converts PARAMETER strings with them.
_INT_PARAMS = keys_of("int")
_FLOAT_PARAMS = keys_of("float")
_BOOL_PARAMS = keys_of("bool")
_LIST_PARAMS = keys_of("list")


class ModelfileError(ValueError):
    pass


@dataclass
class Command:
    name: str
    args: str
    line: int


@dataclass
class Modelfile:
    commands: list[Command] = field(default_factory=list)


def _err(line: int, message: str) -> ModelfileError:
    return ModelfileError(f"(line {line}): {message}")


def parse(text: str) -> Modelfile:
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    out = Modelfile()
    i = 0
    while i < len(lines):
        lineno = i + 1
        raw = lines[i].rstrip("\r")
        stripped = raw.strip()
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(None, 1)
        name = parts[0].lower()
        rest = parts[1] if len(parts) > 1 else ""
        if name not in COMMANDS:
            raise _err(lineno, _COMMAND_ERROR)
        if name in ("parameter", "message"):
            sub = rest.split(None, 1)
            if not sub:
                raise _err(lineno, f"missing {'name' if name == 'parameter' else 'role'}")
            key = sub[0]
            rest = sub[1] if len(sub) > 1 else ""
        value, i = _value(rest, lines, i, lineno)
        if name == "parameter":
            if not _PARAM_NAME.fullmatch(key):
                raise _err(lineno, f"invalid parameter name {key!r}")
            out.commands.append(Command(key, value, lineno))
            continue
        if name == "message":
            if key not in ("system", "user", "assistant"):
                raise _err(lineno, 'message role must be one of "system", "user", or "assistant"')
            out.commands.append(Command("message", f"{key}: {value}", lineno))
            continue
        if name == "requires" and not _SEMVER.fullmatch(value):
            raise _err(lineno, "requires must be a valid semver (e.g. 0.14.0)")
        if not value and name in ("from", "adapter"):
            raise _err(lineno, "missing value for " + name.upper())
        out.commands.append(Command(name, value, lineno))
    return out


def _value(rest: str, lines: list[str], i: int, lineno: int) -> tuple[str, int]:
    """The instruction's value, following quotes across lines. Returns (value, next line index)."""
    rest = rest.strip()
    for quote in ('"""', '"'):
        if rest.startswith(quote):
            body = rest[len(quote) :]
            buf = []
            while True:
                end = body.find(quote)
                if end != -1:
                    tail = body[end + len(quote) :].strip()
                    if tail:
                        raise _err(lineno, f"unexpected {tail[:10]!r} after closing quote")
                    buf.append(body[:end])
                    return "\n".join(buf), i
                buf.append(body)
                if i >= len(lines):
                    raise _err(lineno, "unexpected EOF")
                body = lines[i].rstrip("\r")
                i += 1
    return rest, i


def parameter_value(name: str, raw: str):
    """Convert a PARAMETER string as Ollama's api.FormatParams does; unknown names are errors."""
    try:
        if name in _INT_PARAMS:
            return int(float(raw)) if "." in raw else int(raw)
        if name in _FLOAT_PARAMS:
            return float(raw)
        if name in _BOOL_PARAMS:
            if raw.lower() not in ("true", "false", "1", "0", "t", "f"):
                raise ValueError(raw)
            return raw.lower() in ("true", "1", "t")
    except ValueError:
        raise ModelfileError(f"invalid value for parameter {name}: {raw!r}") from None
    if name in _LIST_PARAMS:
        return raw
    raise ModelfileError(f"unknown parameter '{name}'")


@dataclass
class CreateFields:
    """A Modelfile turned into /api/create's fields (what Ollama's CLI sends)."""

    from_: str = ""
    template: str | None = None
    system: str | None = None
    license: list[str] = field(default_factory=list)
    adapters: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    requires: str = ""
    renderer: str = ""
    parser: str = ""


def to_create_fields(mf: Modelfile) -> CreateFields:
    out = CreateFields()
    seen_from = False
    for c in mf.commands:
        match c.name:
            case "from":
                out.from_, seen_from = c.args, True
            case "template":
                out.template = c.args
            case "system":
                out.system = c.args
            case "license":
                out.license.append(c.args)
            case "adapter":
                out.adapters.append(c.args)
            case "message":
                role, content = c.args.split(": ", 1)
                out.messages.append({"role": role, "content": content})
            case "requires":
                out.requires = c.args.lstrip("v")
            case "renderer":
                out.renderer = c.args
            case "parser":
                out.parser = c.args
            case "draft":
                pass  # speculative decoding is not supported; accepted and ignored
            case name:
                if name in DEPRECATED_OPTIONS:
                    continue
                try:
                    value = parameter_value(name, c.args)
                except ModelfileError as e:
                    raise _err(c.line, str(e)) from None
                if name in _LIST_PARAMS:
                    out.parameters.setdefault(name, []).append(value)
                else:
                    out.parameters[name] = value
    if not seen_from:
        raise ModelfileError("no FROM line")
    return out


def quote(value: str) -> str:
    """How `ollama show` writes a value back: quoted only with a newline or edge spaces."""
    if "\n" in value or value != value.strip():
        return f'"""{value}"""' if '"' in value else f'"{value}"'
    return value
