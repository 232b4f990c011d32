"""The model store: resolve names to manifests and their layers (reference §4, §5)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from server.errors import InvalidArgument, NotFound
from server.store import manifest as mf
from server.store.blobs import BlobStore
from server.store.names import InvalidName, Name, parse_name


@dataclass
class Model:
    name: Name
    manifest: mf.Manifest
    modified_at_ns: int
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

    @property
    def size(self) -> int:
        return self.manifest.total_size


class OutsideStore(InvalidArgument):
    """A path in the store that is a symlink leading out of it."""


class ModelStore:
    def __init__(self, root: Path):
        self.root = root
        self.blobs = BlobStore(root)
        self.manifests = root / "manifests"

    def inside(self, path: Path, name: Name) -> Path:
        """`path` if it resolves inside the store. A symlink leading out is refused, so
        show cannot read, and copy cannot write, anywhere else (the message names the
        model, never a path)."""
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise OutsideStore(f"model '{name.display_shortest()}' leads outside the model store")
        return path

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

    def locate(self, text: str) -> Name:
        """The stored name for `text`: InvalidArgument for bad names, NotFound when absent."""
        try:
            name = parse_name(text)
        except InvalidName:
            raise InvalidArgument("invalid model name") from None
        existing = self.find_existing(name)
        if existing is None:
            raise NotFound(f"model '{text}' not found")
        return existing

    def resolve(self, text: str) -> Model:
        """Load a model by name: InvalidArgument for bad names, NotFound when absent."""
        return self.load(self.locate(text))

    def manifest_version(self, name: Name) -> tuple[int, ...]:
        """What changes whenever the manifest does: its file's identity and times (a
        store write renames a new file into place; an edit in place moves the mtime).
        With content-addressed layers it versions the model's whole content, so what is
        parsed from it can be cached under it. One stat, cheap enough for the event loop."""
        try:
            st = self.manifest_path(name).stat()
        except FileNotFoundError:  # deleted since it was located
            raise NotFound(f"model '{name.display_shortest()}' not found") from None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def load(self, name: Name) -> Model:
        path = self.inside(self.manifest_path(name), name)
        manifest = mf.parse_manifest(path.read_bytes())
        model = Model(
            name=name,
            manifest=manifest,
            modified_at_ns=path.stat().st_mtime_ns,
            model_path=Path(),
        )
        cfg = self.inside(self.blobs.path(manifest.config.digest), name)
        if cfg.is_file():
            model.config = json.loads(cfg.read_bytes() or b"{}")
        for layer in manifest.layers:
            blob = self.inside(self.blobs.path(layer.digest), name)
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
        manifest.raw = manifest.to_bytes()
        self.write_raw_manifest(name, manifest)

    def write_raw_manifest(self, name: Name, manifest: mf.Manifest) -> None:
        """Write the manifest's own bytes (a pulled manifest keeps the registry's digest)."""
        for layer in manifest.blobs:
            if not self.blobs.exists(layer.digest):
                raise FileNotFoundError(layer.digest)
        mf.write_atomic(self.inside(self.manifest_path(name), name), manifest.raw)

    # ------------------------------------------------------------ whole-store operations

    def names(self) -> list[Name]:
        """Every manifest in the store whose path is a valid name."""
        out = []
        if not self.manifests.is_dir():
            return out
        for path in self.manifests.glob("*/*/*/*"):
            if not path.is_file() or path.name.startswith("."):
                continue
            host, namespace, model, tag = path.relative_to(self.manifests).parts
            try:
                name = parse_name(f"{host}/{namespace}/{model}:{tag}")
            except InvalidName:
                continue
            out.append(name)
        return out

    def list_models(self) -> list[Model]:
        """Loadable models, newest manifest first (Ollama /api/tags order)."""
        models = []
        for name in self.names():
            try:
                models.append(self.load(name))
            except (OSError, ValueError, KeyError, NotFound, OutsideStore):
                continue  # a broken manifest is skipped, as Ollama's list does
        models.sort(key=lambda m: m.modified_at_ns, reverse=True)
        return models

    def referenced_digests(self) -> set[str]:
        refs: set[str] = set()
        for name in self.names():
            try:
                manifest = mf.parse_manifest(self.manifest_path(name).read_bytes())
            except (OSError, ValueError, KeyError):
                continue
            refs.update(layer.digest for layer in manifest.blobs)
        return refs

    def prune_blobs(self, candidates: set[str]) -> None:
        """Delete the candidate blobs no manifest references any more."""
        unused = candidates - self.referenced_digests()
        for digest in unused:
            self.blobs.path(digest).unlink(missing_ok=True)

    def delete(self, name: Name) -> None:
        path = self.manifest_path(name)
        manifest = mf.parse_manifest(path.read_bytes())
        path.unlink()
        # Prune empty directories up to manifests/, as Ollama does.
        parent = path.parent
        while parent != self.manifests and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        self.prune_blobs({layer.digest for layer in manifest.blobs})

    def copy(self, source: Name, destination: Name) -> None:
        """The manifest is copied byte for byte, so the digest stays the same."""
        raw = self.inside(self.manifest_path(source), source).read_bytes()
        mf.write_atomic(self.inside(self.manifest_path(destination), destination), raw)

    def lookup_name(self, text: str) -> Name:
        """Parse a name and adopt the casing of an existing model with the same name."""
        name = parse_name(text)
        return self.find_existing(name) or name
