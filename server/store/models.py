"""The model store: resolve names to manifests and their layers (reference §4, §5)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from server.errors import InvalidArgument, NotFound
from server.store import manifest as mf
from server.store.blobs import BlobStore
from server.store.names import InvalidName, Name, parse_name


@dataclass
class Model:
    name: Name
    manifest: mf.Manifest
    modified_at: datetime
    model_path: Path
    template: str = ""
    system: str = ""
    params: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    license: list[str] = field(default_factory=list)
    adapters: list[Path] = field(default_factory=list)
    projectors: list[Path] = field(default_factory=list)
    config: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return self.manifest.digest


class ModelStore:
    def __init__(self, root: Path):
        self.root = root
        self.blobs = BlobStore(root)
        self.manifests = root / "manifests"

    def manifest_path(self, name: Name) -> Path:
        return self.manifests.joinpath(*name.parts)

    def find_existing(self, name: Name) -> Name | None:
        """Case-insensitive lookup adopting the stored casing (Ollama getExistingName)."""
        if self.manifest_path(name).is_file():
            return name
        directory = self.manifests
        found: list[str] = []
        for part in name.parts:
            if not directory.is_dir():
                return None
            match = next((p.name for p in directory.iterdir() if p.name.casefold() == part.casefold()), None)
            if match is None:
                return None
            found.append(match)
            directory = directory / match
        if not directory.is_file():
            return None
        return Name(*found, scheme=name.scheme)

    def resolve(self, text: str) -> Model:
        """Load a model by name: InvalidArgument for bad names, NotFound when absent."""
        try:
            name = parse_name(text)
        except InvalidName:
            raise InvalidArgument("invalid model name") from None
        existing = self.find_existing(name)
        if existing is None:
            raise NotFound(f"model '{text}' not found")
        return self.load(existing)

    def load(self, name: Name) -> Model:
        path = self.manifest_path(name)
        manifest = mf.parse_manifest(path.read_bytes())
        model = Model(
            name=name,
            manifest=manifest,
            modified_at=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
            model_path=Path(),
        )
        cfg = self.blobs.path(manifest.config.digest)
        if cfg.is_file():
            model.config = json.loads(cfg.read_bytes() or b"{}")
        for layer in manifest.layers:
            blob = self.blobs.path(layer.digest)
            match layer.media_type:
                case mf.MEDIA_MODEL:
                    model.model_path = blob
                case mf.MEDIA_TEMPLATE | mf.MEDIA_PROMPT:
                    model.template = blob.read_text()
                case mf.MEDIA_SYSTEM:
                    model.system = blob.read_text()
                case mf.MEDIA_PARAMS:
                    model.params = json.loads(blob.read_bytes())
                case mf.MEDIA_MESSAGES:
                    model.messages = json.loads(blob.read_bytes())
                case mf.MEDIA_LICENSE:
                    model.license.append(blob.read_text())
                case mf.MEDIA_ADAPTER:
                    model.adapters.append(blob)
                case mf.MEDIA_PROJECTOR:
                    model.projectors.append(blob)
        if model.model_path == Path():
            raise NotFound(f"model '{name.display_shortest()}' has no model layer")
        return model

    def write_manifest(self, name: Name, manifest: mf.Manifest) -> None:
        """Write last, after every blob it references exists (crash-safe ordering)."""
        for layer in [manifest.config, *manifest.layers]:
            if not self.blobs.exists(layer.digest):
                raise FileNotFoundError(layer.digest)
        manifest.raw = manifest.to_bytes()
        mf.write_atomic(self.manifest_path(name), manifest.raw)
