"""Model names as Ollama parses them (types/model/name.go; reference §4).

Grammar: [scheme://][host/][namespace/]model[:tag]. Defaults registry.ollama.ai,
library, latest. Each part has a character set and a length limit; anything else,
including names that could escape the store ("..", NUL, absolute paths), is invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

# Ollama allows hosts of 350 characters, but the host is a folder name in the store and
# Linux refuses names over 255 bytes (ENAMETOOLONG surfaced as a 500 with the store's
# path in it), so a longer host is an invalid name here.
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}")
_NAMESPACE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,79}")
_MODEL_OR_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")


class InvalidName(ValueError):
    """The name does not follow Ollama's grammar."""


@dataclass(frozen=True)
class Name:
    host: str
    namespace: str
    model: str
    tag: str
    scheme: str = "https"

    @property
    def parts(self) -> tuple[str, str, str, str]:
        return (self.host, self.namespace, self.model, self.tag)

    def display_shortest(self) -> str:
        """`model:tag`, `ns/model:tag` or `host/ns/model:tag`, as in /api/tags."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    def full(self) -> str:
        """`registry.ollama.ai/library/x:latest`, used in capability errors."""
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    def casefold_key(self) -> tuple[str, ...]:
        return tuple(p.casefold() for p in self.parts)


def parse_name(text: str) -> Name:
    """Parse and validate a model name, filling defaults; raise InvalidName."""
    if not text or "\x00" in text:
        raise InvalidName(text)
    scheme = "https"
    rest = text
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme not in ("http", "https"):
            raise InvalidName(text)
    tag = DEFAULT_TAG
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1 :]
    pieces = rest.split("/")
    if len(pieces) > 3:
        raise InvalidName(text)
    model = pieces[-1]
    namespace = pieces[-2] if len(pieces) >= 2 else DEFAULT_NAMESPACE
    host = pieces[-3] if len(pieces) == 3 else DEFAULT_HOST
    ok = (
        _HOST.fullmatch(host)
        and _NAMESPACE.fullmatch(namespace)
        and _MODEL_OR_TAG.fullmatch(model)
        and _MODEL_OR_TAG.fullmatch(tag)
        and ".." not in host
    )
    if not ok:
        raise InvalidName(text)
    return Name(host=host, namespace=namespace, model=model, tag=tag, scheme=scheme)
