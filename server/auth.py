"""Who may call: the one place that decides, for gRPC callers and (through the shim,
which passes each caller's credentials on) REST callers alike.

Off unless configured, so loopback use stays as Ollama's. Two kinds of credential,
both read from gRPC's `authorization` metadata:

- `Basic <base64 user:password>`, against OLLAMA_BASIC_AUTH;
- `Bearer <key>`, against the API-key file TOKENWIRE_API_KEYS. The file holds only
  sha256 digests of the keys (`<name> sha256:<hex>` a line), so reading it gives no
  key away. Keys are 256-bit random strings, for which one sha256 is the right hash
  (as for GitHub's tokens): a slow password hash protects guessable secrets only.

Every comparison runs in constant time and over every stored entry, so timing tells
nothing about how close a guess was. No credential is ever logged. Health is always
open, for probes; reflection is behind the same check as the services.

`python -m server.auth add NAME` makes a key, appends its digest to the file and
prints the key once.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from server.interceptors import refusal
from tokenwire_common.settings import SettingError

OPEN_METHODS = ("/grpc.health.v1.Health/",)
REALM = "tokenwire"
# Trailing metadata on a refusal: the challenge the shim puts in WWW-Authenticate.
CHALLENGE_KEY = "www-authenticate"


class KeyFileError(SettingError):
    """The API-key file cannot be used: the server stops at start, saying why."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    digest: bytes  # sha256 of the key


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def load_keys(path: Path) -> list[ApiKey]:
    keys = []
    try:
        text = path.read_text()
    except OSError as e:
        raise KeyFileError(f"TOKENWIRE_API_KEYS={str(path)!r}: {e.strerror}") from None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, hashed = line.rpartition(" ")
        if not hashed.startswith("sha256:"):
            raise KeyFileError(f"{path.name} line {n}: expected '<name> sha256:<hex>'")
        try:
            raw = bytes.fromhex(hashed[7:])
        except ValueError:
            raise KeyFileError(f"{path.name} line {n}: the digest is not hex") from None
        if len(raw) != 32:
            raise KeyFileError(f"{path.name} line {n}: a sha256 digest has 64 hex digits")
        keys.append(ApiKey(name.strip() or f"key{n}", raw))
    return keys


class Authenticator:
    def __init__(self, basic: tuple[str, str] | None = None, keys: Sequence[ApiKey] = ()):
        self._basic = (basic[0].encode(), basic[1].encode()) if basic else None
        self._keys = list(keys)

    @property
    def enabled(self) -> bool:
        return self._basic is not None or bool(self._keys)

    def challenge(self) -> str:
        schemes = (["Basic"] if self._basic else []) + (["Bearer"] if self._keys else [])
        return ", ".join(f'{scheme} realm="{REALM}"' for scheme in schemes)

    def allows(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if scheme == "bearer":
            return self._key_matches(value)
        if scheme == "basic":
            return self._basic_matches(value)
        return False

    def _key_matches(self, key: str) -> bool:
        presented = digest(key)
        found = False
        for stored in self._keys:  # every entry, always: no early exit to time
            found |= hmac.compare_digest(presented, stored.digest)
        return found

    def _basic_matches(self, value: str) -> bool:
        if self._basic is None:
            return False
        try:
            user, _, password = base64.b64decode(value, validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        same_user = hmac.compare_digest(user, self._basic[0])
        same_password = hmac.compare_digest(password, self._basic[1])
        return same_user & same_password


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator):
        self._auth = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_METHODS):
            return handler
        metadata = dict(details.invocation_metadata or ())
        authorization = metadata.get("authorization")
        if self._auth.allows(authorization if isinstance(authorization, str) else None):
            return handler
        message = f"unauthorized: {'invalid' if authorization else 'missing'} credentials"
        challenge = ((CHALLENGE_KEY, self._auth.challenge()),)
        return refusal(handler, grpc.StatusCode.UNAUTHENTICATED, message, challenge)


def authenticator_for(basic: tuple[str, str] | None, keys_file: Path | None) -> Authenticator:
    return Authenticator(basic, load_keys(keys_file) if keys_file else ())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server.auth", description="Manage tokenwire API keys.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="make a key, append its digest to the key file, print the key")
    add.add_argument("name")
    add.add_argument("--file", type=Path, required=True, help="the TOKENWIRE_API_KEYS file")
    args = parser.parse_args(argv)
    key = "tw_" + secrets.token_urlsafe(32)
    if any(c.isspace() for c in args.name):
        sys.exit("a key name has no spaces")
    with open(args.file, "a") as f:
        f.write(f"{args.name} sha256:{digest(key).hex()}\n")
    print(key)


if __name__ == "__main__":
    main()
