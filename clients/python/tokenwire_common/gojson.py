"""JSON as Go's encoding/json.Marshal writes it: compact, and HTML-safe.

Ollama's responses (and its templates' `json` function) are Go output, which escapes
<, > and & as \\u003c, \\u003e, \\u0026 and U+2028/U+2029 as \\u2028/\\u2029. Clients
decode either form the same, but byte-level fidelity keeps golden tests honest.
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # reused: hot per streamed chunk


def dumps(value: Any) -> str:
    return _ENCODER.encode(value).translate(_ESCAPES)
