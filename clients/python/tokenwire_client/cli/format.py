"""How `ollama` lays out what it prints, as pure functions: tables, human sizes and
times, `show`'s sections, the `--verbose` stats block. Goldens in
tests/unit/test_cli_format.py holds them to the captures in ollama-cli/.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

PAD = 4  # Ollama's tablewriter padding: four spaces after every cell


def table(header: Sequence[str] | None, rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Ollama's tables (`list`, `ps`, `show`): each column as wide as its widest cell,
    every cell followed by four spaces, except the header's last, which gets one."""
    cols = max([len(header or ())] + [len(r) for r in rows])
    widths = [0] * cols
    for r in [*([header] if header else []), *rows]:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))
    lines = []
    if header:
        cells = [c.ljust(widths[i] + (PAD if i < len(header) - 1 else 1)) for i, c in enumerate(header)]
        lines.append(indent + "".join(cells))
    for r in rows:
        lines.append(indent + "".join(c.ljust(widths[i] + PAD) for i, c in enumerate(r)))
    return "\n".join(lines)


def human_bytes(n: int) -> str:
    """Ollama's format.HumanBytes: decimal units, a decimal below 10 when it has one."""
    units = [
        (u, size) for u, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)) if n >= size
    ]
    if not units:
        return f"{n} B"
    unit, size = units[0]
    value = n / size
    if value >= 10 or value == math.trunc(value):
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def human_duration(seconds: float) -> str:
    """docker/go-units HumanDuration, which Ollama's format.HumanTime uses."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def human_time(epoch_s: float, now: float | None = None, zero: str = "Never") -> str:
    """ "6 minutes ago", "4 minutes from now", "Forever" (more than 20 years ahead)."""
    if not epoch_s:
        return zero
    delta = (time.time() if now is None else now) - epoch_s
    if delta < -20 * 365 * 86400:
        return "Forever"
    if delta < 0:
        return human_duration(-delta) + " from now"
    return human_duration(delta) + " ago"


def human_number(n: float) -> str:
    """Ollama's format.HumanNumber, for parameter counts: 134.52M, 1.2B, 3K."""
    for unit, size, places in (("B", 1e9, 1), ("M", 1e6, 2), ("K", 1e3, 2)):
        if n >= size:
            value = n / size
            return f"{value:.0f}{unit}" if value == math.floor(value) else f"{value:.{places}f}{unit}"
    return str(int(n))


def go_float(v: float) -> str:
    """Go's %v of a float64 (how Ollama's CLI prints JSON numbers): the shortest digits,
    in exponent form when the exponent is below -4 or at least max(6, digits)."""
    if v == 0:
        return "0"
    from decimal import Decimal

    sign, digits, exp = Decimal(repr(float(v))).normalize().as_tuple()
    nd, x = len(digits), len(digits) + int(exp) - 1
    eprec = nd if nd < 6 and nd >= x + 1 else 6
    text = "".join(map(str, digits))
    minus = "-" if sign else ""
    if x < -4 or x >= eprec:
        mantissa = text[0] + ("." + text[1:] if nd > 1 else "")
        return f"{minus}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if x < 0:
        return f"{minus}0.{'0' * (-x - 1)}{text}"
    if nd <= x + 1:
        return minus + text + "0" * (x + 1 - nd)
    return f"{minus}{text[: x + 1]}.{text[x + 1 :]}"


def _width(text: str) -> int:
    """Terminal cells, as go-runewidth counts them: East Asian wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _value(v: Any) -> str:
    """A GGUF metadata value as `show -v` prints it. An array shows as many items as fit
    in 10 cells, counting its bracket and a 2-cell separator per item after the first,
    and at least one (Ollama's showInfo), then `...+N more]`."""
    if isinstance(v, list):
        items = [_value(x) for x in v]
        shown, total = 0, 1
        for i, item in enumerate(items):
            width = _width(item) + (2 if i else 0)
            if total + width > 10 and i:
                break
            total, shown = total + width, shown + 1
        more = f" ...+{len(items) - shown} more" if shown < len(items) else ""
        return "[" + " ".join(items[:shown]) + more + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return go_float(v)
    return str(v)


def show(info: Mapping[str, Any], verbose: bool = False) -> str:
    """`ollama show MODEL`'s sections: Model, Capabilities, Parameters, System, License
    (and Metadata, Tensors with -v), each a two-space title over a table."""
    mi = info.get("model_info") or {}
    arch = mi.get("general.architecture", "")
    details = info.get("details") or {}
    model_rows = [["architecture", str(arch)]]
    if "general.parameter_count" in mi:
        model_rows.append(["parameters", human_number(float(mi["general.parameter_count"]))])
    elif details.get("parameter_size"):
        model_rows.append(["parameters", details["parameter_size"]])
    for key, label in (("context_length", "context length"), ("embedding_length", "embedding length")):
        if f"{arch}.{key}" in mi:
            model_rows.append([label, str(mi[f"{arch}.{key}"])])
    if details.get("quantization_level"):
        model_rows.append(["quantization", details["quantization_level"]])
    sections = [("Model", model_rows)]
    if info.get("capabilities"):
        sections.append(("Capabilities", [[c] for c in info["capabilities"]]))
    params = [line.split(None, 1) for line in (info.get("parameters") or "").splitlines() if line.strip()]
    if params:
        sections.append(("Parameters", [[k, v.strip()] for k, v in params]))
    if info.get("system"):
        sections.append(("System", [[line] for line in _first_lines(info["system"])]))
    if info.get("license"):
        sections.append(("License", [[line] for line in _first_lines(info["license"])]))
    if verbose:
        sections.append(("Metadata", [[k, _value(v)] for k, v in sorted(mi.items())]))
        tensors = info.get("tensors") or []
        if tensors:
            rows = [[t["name"], t["type"], "[" + " ".join(str(d) for d in t["shape"]) + "]"] for t in tensors]
            sections.append(("Tensors", rows))
    out = []
    for title, rows in sections:
        out.append(f"  {title}\n" + table(None, rows, indent="    ") + "\n")
    return "\n".join(out)


def _first_lines(text: str, n: int = 2) -> list[str]:
    """System and License show their first lines, with an ellipsis if there is more."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[:n] + (["..."] if len(lines) > n else [])


def _duration(ns: int) -> str:
    """Go's time.Duration.String() for the stats block: 774.714877ms, 644.592µs, 1.5s."""
    if ns == 0:
        return "0s"
    if ns < 1000:
        return f"{ns}ns"
    if ns < 10**6:
        return _trim(ns / 1e3) + "µs"
    if ns < 10**9:
        return _trim(ns / 1e6) + "ms"
    s = ns / 1e9
    if s < 60:
        return _trim(s) + "s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{int(m)}m{_trim(s)}s"
    h, m = divmod(m, 60)
    return f"{int(h)}h{int(m)}m{_trim(s)}s"


def _trim(x: float) -> str:
    return f"{x:.9f}".rstrip("0").rstrip(".")


def stats(m: Mapping[str, Any]) -> str:
    """The block `ollama run --verbose` prints after the answer."""
    lines = [f"total duration:       {_duration(m.get('total_duration') or 0)}",
             f"load duration:        {_duration(m.get('load_duration') or 0)}"]  # fmt: skip
    pc, pd = m.get("prompt_eval_count") or 0, m.get("prompt_eval_duration") or 0
    if pc:
        lines.append(f"prompt eval count:    {pc} token(s)")
    if pd:
        lines.append(f"prompt eval duration: {_duration(pd)}")
        lines.append(f"prompt eval rate:     {pc / (pd / 1e9):.2f} tokens/s")
    ec, ed = m.get("eval_count") or 0, m.get("eval_duration") or 0
    lines.append(f"eval count:           {ec} token(s)")
    if ed:
        lines.append(f"eval duration:        {_duration(ed)}")
        lines.append(f"eval rate:            {ec / (ed / 1e9):.2f} tokens/s")
    return "\n".join(lines)
