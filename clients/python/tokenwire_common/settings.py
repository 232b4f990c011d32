"""Settings as one spec: a variable's name, default, parser, bounds and doc, once.

Each process lists its settings as `Setting`s; `load` reads them from an environment
(with Ollama's trimming of spaces and quotes), and refuses a bad value with a message
naming the variable, so a typo stops the process at start instead of silently
becoming a default. The README's settings table is made from the same list
(`markdown_rows`), and a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenwire_common.duration import DurationError, parse_env_keep_alive, parse_go_duration


class SettingError(ValueError):
    """A variable whose value cannot be used; the message names it."""


def clean(value: str | None) -> str:
    # Ollama trims spaces and quotes from every variable (envconfig.Var).
    return (value or "").strip().strip("\"'").strip()


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    default: Any  # a value, or a function of the environment (e.g. paths under HOME)
    parse: Callable[[str], Any]
    doc: str
    shown: str = ""  # the default as the README shows it, when str(default) is not it
    # For a variable whose empty value means something ("" turns a feature off).
    empty_is_value: bool = False

    def default_for(self, env: Mapping[str, str]) -> Any:
        return self.default(env) if callable(self.default) else self.default

    def shown_default(self) -> str:
        if self.shown:
            return self.shown
        return "–" if self.default in (None, "", ()) else str(self.default)


def load(specs: Sequence[Setting], env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in specs:
        raw = clean(env.get(spec.env))
        if not raw and not (spec.empty_is_value and spec.env in env):
            values[spec.field] = spec.default_for(env)
            continue
        try:
            values[spec.field] = spec.parse(raw)
        except (ValueError, DurationError) as e:
            raise SettingError(f"{spec.env}={raw!r}: {e}") from None
    return values


def markdown_rows(specs: Sequence[Setting]) -> list[str]:
    return [f"| `{s.env}` | {_code(s.shown_default())} | {s.doc} |" for s in specs]


def _code(text: str) -> str:
    return text if text == "–" else f"`{text}`"


# ------------------------------------------------------------------ parsers


def integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("not an integer") from None
        if low is not None and value < low:
            raise ValueError(f"must be at least {low}")
        if high is not None and value > high:
            raise ValueError(f"must be at most {high}")
        return value

    return parse


def number(low: float = 0.0) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("not a number") from None
        if not value >= low:  # also refuses NaN
            raise ValueError(f"must be at least {low}")
        return value

    return parse


def boolean(raw: str) -> bool:
    """Go's strconv.ParseBool, as Ollama's envconfig.Bool reads flags."""
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError("not a boolean (true, false, 1, 0)")


def text(raw: str) -> str:
    return raw


def path(raw: str) -> Path:
    return Path(raw).expanduser()


def keep_alive(raw: str) -> int:
    """OLLAMA_KEEP_ALIVE in nanoseconds: a Go duration or integer seconds."""
    try:
        parse_go_duration(raw)
    except DurationError:
        try:
            int(raw)
        except ValueError:
            raise ValueError("not a duration (5m, 1h, -1) or integer seconds") from None
    return parse_env_keep_alive(raw)


def seconds(raw: str) -> float:
    """A Go duration ("24h") or a number of seconds."""
    try:
        return parse_go_duration(raw) / 1e9
    except DurationError:
        return number()(raw)


def home(env: Mapping[str, str]) -> Path:
    return Path(clean(env.get("HOME")) or Path.home())


def _log_format(raw: str) -> bool:
    value = raw.lower()
    if value not in ("text", "json"):
        raise ValueError('must be "text" or "json"')
    return value == "json"


# Read by the server and the shim alike: declared once, in both SPECs.
LOG_JSON = Setting(
    "log_json", "TOKENWIRE_LOG_FORMAT", False, _log_format,
    "`json`: one JSON object per log line (time, level, logger, message, trace id); `text` otherwise",
    shown="text",
)  # fmt: skip

METRICS = Setting(
    "metrics", "TOKENWIRE_METRICS", True, boolean,
    "record Prometheus metrics, in the server and the shim (`false`: none are counted; "
    "bench/observe measures the difference)",
    shown="true",
)  # fmt: skip
