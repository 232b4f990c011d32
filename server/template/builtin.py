"""Ollama's built-in templates (template/*.gotmpl, index.json), for autodetection.

When a GGUF brings a Jinja `tokenizer.chat_template` and the create request gives no
TEMPLATE, Ollama picks the built-in template whose known Jinja source is nearest by
Levenshtein distance, if that distance is under 100, and adds its default params.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import Levenshtein

_DIR = Path(__file__).resolve().parent / "builtin"
MAX_DISTANCE = 100


@dataclass(frozen=True)
class Builtin:
    name: str
    template: str
    params: dict


@lru_cache(maxsize=1)
def _index() -> list[tuple[str, str]]:
    return [(e["name"], e["template"]) for e in json.loads((_DIR / "index.json").read_text())]


def load(name: str) -> Builtin:
    params_file = _DIR / f"{name}.json"
    params = json.loads(params_file.read_text()) if params_file.is_file() else {}
    return Builtin(name, (_DIR / f"{name}.gotmpl").read_text(), params)


def detect(chat_template: str) -> Builtin | None:
    best: tuple[int, str] | None = None
    for name, jinja in _index():
        d = Levenshtein.distance(chat_template, jinja, score_cutoff=MAX_DISTANCE - 1)
        if d < MAX_DISTANCE and (best is None or d < best[0]):
            best = (d, name)
    return load(best[1]) if best else None
