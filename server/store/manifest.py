"""Manifests: manifests/<host>/<namespace>/<model>/<tag> (reference §5).

Docker v2 schema 2 JSON. The manifest's digest (shown by /api/tags) is the sha256 of
the file's exact bytes, so an existing manifest is never re-serialised.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
MEDIA_MODEL = "application/vnd.ollama.image.model"
MEDIA_ADAPTER = "application/vnd.ollama.image.adapter"
MEDIA_PROJECTOR = "application/vnd.ollama.image.projector"
MEDIA_TEMPLATE = "application/vnd.ollama.image.template"
MEDIA_PROMPT = "application/vnd.ollama.image.prompt"  # legacy name of a template layer
MEDIA_SYSTEM = "application/vnd.ollama.image.system"
MEDIA_PARAMS = "application/vnd.ollama.image.params"
MEDIA_MESSAGES = "application/vnd.ollama.image.messages"
MEDIA_LICENSE = "application/vnd.ollama.image.license"


@dataclass
class Layer:
    media_type: str
    digest: str
    size: int
    from_: str | None = None

    def to_json(self) -> dict:
        d = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.from_:
            d["from"] = self.from_
        return d


@dataclass
class Manifest:
    config: Layer
    layers: list[Layer] = field(default_factory=list)
    raw: bytes = b""  # the exact file bytes, for the digest

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def blobs(self) -> list[Layer]:
        """Every blob the manifest names: the layers, then the config (Ollama's pull and
        push order; a manifest without a config digest has only its layers)."""
        return [*self.layers, self.config] if self.config.digest else [*self.layers]

    @property
    def total_size(self) -> int:
        return self.config.size + sum(layer.size for layer in self.layers)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": self.config.to_json(),
                "layers": [layer.to_json() for layer in self.layers],
            },
            separators=(",", ":"),
        ).encode()


def _layer(d: dict) -> Layer:
    return Layer(
        media_type=d["mediaType"], digest=d["digest"], size=int(d.get("size", 0)), from_=d.get("from")
    )


def parse_manifest(raw: bytes) -> Manifest:
    d = json.loads(raw)
    return Manifest(config=_layer(d["config"]), layers=[_layer(x) for x in d.get("layers") or []], raw=raw)


def write_atomic(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
