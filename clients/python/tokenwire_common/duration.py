"""keep_alive durations as Ollama parses them (reference §3).

JSON numbers are seconds; strings use Go's time.ParseDuration syntax; any negative
value means forever. Everything is carried as int64 nanoseconds.
"""

from __future__ import annotations

import re

FOREVER_NS = 2**63 - 1
DEFAULT_KEEP_ALIVE_NS = 5 * 60 * 10**9

_UNITS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


class DurationError(ValueError):
    """A keep_alive value Ollama would reject; the message is Go's."""


def parse_go_duration(text: str) -> int:
    """Go's time.ParseDuration, returning nanoseconds; errors carry Go's message."""
    orig = text
    if text in ("0", "+0", "-0"):
        return 0
    if not text:
        raise DurationError(f'time: invalid duration "{orig}"')
    sign = 1
    if text[0] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not text:
        raise DurationError(f'time: invalid duration "{orig}"')
    total = 0.0
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if not m:
            if re.fullmatch(r"[\d.]+", text[pos:]):
                raise DurationError(f'time: missing unit in duration "{orig}"')
            unit = re.match(r"[\d.]*([^\d.]*)", text[pos:])
            if unit and unit.group(1) and not re.match(r"\d", unit.group(1)):
                raise DurationError(f'time: unknown unit "{unit.group(1)}" in duration "{orig}"')
            raise DurationError(f'time: invalid duration "{orig}"')
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if total > FOREVER_NS:  # Go's ParseDuration refuses what overflows int64
        raise DurationError(f'time: invalid duration "{orig}"')
    return sign * int(total)


def keep_alive_from_json(value: object) -> int:
    """An Ollama `keep_alive` JSON value -> nanoseconds (negative = forever)."""
    if isinstance(value, bool):
        raise DurationError("Unsupported type: 'bool'")
    if isinstance(value, int | float):
        if value != value:
            raise DurationError("Unsupported type: 'float'")
        # Go converts seconds * 1e9 to an int64 Duration; past its range amd64 gives
        # the most negative value, which Ollama reads as "forever".
        ns = value * 10**9 if isinstance(value, int) else value * 1e9
        ns = FOREVER_NS if abs(ns) >= FOREVER_NS else int(ns)
    elif isinstance(value, str):
        ns = parse_go_duration(value)
    else:
        raise DurationError(f"Unsupported type: '{type(value).__name__}'")
    return FOREVER_NS if ns < 0 else ns


def parse_env_keep_alive(text: str) -> int:
    """OLLAMA_KEEP_ALIVE: a Go duration or bare integer seconds; negative = forever."""
    if not text:
        return DEFAULT_KEEP_ALIVE_NS
    try:
        ns = parse_go_duration(text)
    except DurationError:
        try:
            ns = int(text) * 10**9
        except ValueError:
            return DEFAULT_KEEP_ALIVE_NS
    return FOREVER_NS if ns < 0 else ns
