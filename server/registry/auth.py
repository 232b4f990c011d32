"""Registry authentication (reference §6 "Auth").

A registry that wants credentials answers 401 with a `WWW-Authenticate` challenge:

- `Bearer realm="…",service="…",scope="…"`: the standard token flow of CNCF
  distribution. We GET `realm?service=…&scope=…` and retry with the token. The token
  request carries basic credentials when configuration has some for the registry;
  otherwise, like Ollama, it is signed with the Ollama key (`~/.ollama/id_ed25519`)
  when that key exists and the realm is on the registry's own host.
- `Basic realm="…"` (htpasswd): the configured credentials, sent directly.

Credentials come from a Docker-style `config.json` (`TOKENWIRE_REGISTRY_AUTH`):
`{"auths": {"host:port": {"auth": base64("user:pass")}}}` or with
`"username"`/`"password"`, as `docker login` writes it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic", lower case
    realm: str = ""
    service: str = ""
    scope: str = ""


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a WWW-Authenticate header, or None if there is none."""
    header = (header or "").strip()
    scheme, _, rest = header.partition(" ")
    if not scheme:
        return None
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(rest)
    }
    params = {k: re.sub(r"\\(.)", r"\1", v) for k, v in params.items()}
    return Challenge(
        scheme=scheme.lower(),
        realm=params.get("realm", ""),
        service=params.get("service", ""),
        scope=params.get("scope", ""),
    )


@dataclass(frozen=True)
class Basic:
    username: str
    password: str

    def header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


class Credentials:
    """Basic credentials per registry host, from a Docker-style config.json."""

    def __init__(self, auths: dict[str, Basic] | None = None):
        self._auths = {k.casefold(): v for k, v in (auths or {}).items()}

    @classmethod
    def load(cls, path: Path | None) -> Credentials:
        if path is None or not path.is_file():
            return cls()
        doc = json.loads(path.read_text() or "{}")
        auths: dict[str, Basic] = {}
        for key, entry in (doc.get("auths") or {}).items():
            if not isinstance(entry, dict):
                continue
            user, password = entry.get("username"), entry.get("password")
            if entry.get("auth"):
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            if user:
                auths[_host_of(key)] = Basic(user, password or "")
        return cls(auths)

    def for_host(self, host: str) -> Basic | None:
        return self._auths.get(host.casefold())


def _host_of(key: str) -> str:
    """`https://host:port/v1/` or `host:port` -> `host:port`."""
    if "://" in key:
        key = urlsplit(key).netloc
    return key.split("/", 1)[0]


class OllamaKey:
    """Ollama's ed25519 key. Token requests are signed as Ollama's auth.Sign does:
    `Authorization: <base64 public key>:<base64 signature>` over
    `GET,<url>,<base64(hex(sha256("")))>`."""

    def __init__(self, path: Path):
        self.path = path

    def available(self) -> bool:
        return self.path.is_file()

    def sign(self, data: bytes) -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = serialization.load_ssh_private_key(self.path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{self.path} is not an ed25519 key")
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        b64_public = public.split(b" ")[1].decode()
        return f"{b64_public}:{base64.b64encode(key.sign(data)).decode()}"


def token_request_params(challenge: Challenge) -> list[tuple[str, str]]:
    """Query of the token request: service, one scope per space-separated entry, and
    Ollama's ts and nonce (standard token servers ignore the last two)."""
    params = [("service", challenge.service)]
    params += [("scope", s) for s in challenge.scope.split(" ") if s]
    params += [("ts", str(int(time.time()))), ("nonce", base64.b64encode(secrets.token_bytes(16)).decode())]
    return params


def signed_payload(url: str) -> bytes:
    empty = hashlib.sha256(b"").hexdigest().encode()
    return f"GET,{url},{base64.b64encode(empty).decode()}".encode()
