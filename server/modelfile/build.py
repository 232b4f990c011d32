"""CreateModel: build a manifest from a base model and/or uploaded GGUF blobs (reference §7).

Two phases. Validation reads and checks everything and writes nothing, so bad input
leaves the store exactly as it was. Writing then creates content-addressed blobs
(atomic, deduplicated) and the manifest last; if anything fails, the blobs this call
created and nothing else references are removed again.

`create` is a blocking generator of progress lines; the servicer drives it in a thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from server.errors import InvalidArgument, NotFound
from server.options import check_params
from server.store import manifest as mf
from server.store.blobs import InvalidDigest, normalize_digest
from server.store.gguf_info import BadMetadata, GGUFInfo, NotGGUF, human_number, read_info
from server.store.models import Model, ModelStore
from server.store.names import InvalidName, Name, parse_name
from server.template import builtin
from server.template.gotemplate import Template, TemplateError
from tokenwire_common import gojson

QUANT_ALIASES = {"Q4_K": "Q4_K_M"}
QUANT_TYPES = ("F32", "F16", "BF16", "Q8_0", "Q4_K_S", "Q4_K_M")
QUANTIZABLE = ("F16", "BF16", "F32")
# Layers a new model takes over from its base, marked with `from`.
FROM_MEDIA = (mf.MEDIA_MODEL, mf.MEDIA_PROJECTOR, mf.MEDIA_ADAPTER)

# One writer at a time: pruning after a delete must never race a half-built create.
STORE_LOCK = threading.Lock()

Quantizer = Callable[[Path, Path, str], None]


@dataclass
class CreateSpec:
    model: str
    from_: str = ""
    files: dict[str, str] = field(default_factory=dict)
    adapters: dict[str, str] = field(default_factory=dict)
    template: str | None = None
    system: str | None = None
    license: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    quantize: str = ""
    requires: str = ""
    renderer: str = ""
    parser: str = ""


@dataclass
class Progress:
    status: str
    digest: str = ""
    total: int = 0
    completed: int = 0


def config_for(info: GGUFInfo, **extra: str) -> dict:
    """Ollama's ConfigV2 for a GGUF model (key order as Go marshals the struct)."""
    config = {
        "model_format": "gguf",
        "model_family": info.architecture,
        "model_families": [info.architecture],
        "model_type": human_number(info.parameter_count),
        "file_type": info.file_type,
    }
    config.update({k: v for k, v in extra.items() if v})
    config.update({"architecture": "amd64", "os": "linux"})
    return config


def _check_relative(path: str) -> None:
    p = PurePosixPath(path)
    if not path or p.is_absolute() or ".." in p.parts or "\\" in path or "\x00" in path:
        raise InvalidArgument("file path must be relative")


@dataclass
class _Plan:
    name: Name
    base: Model | None = None
    model_blob: Path | None = None  # a GGUF blob given in files
    model_digest: str = ""
    projectors: list[tuple[str, int]] = field(default_factory=list)
    adapters: list[tuple[str, int]] = field(default_factory=list)
    info: GGUFInfo | None = None
    quantize: str = ""


def _validate(store: ModelStore, spec: CreateSpec) -> _Plan:
    try:
        name = store.lookup_name(spec.model)
    except InvalidName:
        raise InvalidArgument("invalid model name") from None
    if not spec.from_ and not spec.files:
        raise InvalidArgument("neither 'from' or 'files' was specified")
    plan = _Plan(name)
    # The same checks a request's options get: a model that cannot run is not saved.
    check_params(spec.parameters)
    if spec.from_:
        try:
            base_name = parse_name(spec.from_)
        except InvalidName:
            raise InvalidArgument("invalid model name") from None
        existing = store.find_existing(base_name)
        if existing is None:
            # CreateModel pulls a missing base first; reaching here means it vanished.
            raise NotFound("pull model manifest: file does not exist")
        plan.base = store.load(existing)
    for fname, digest in sorted(spec.files.items()):
        _check_relative(fname)
        blob = _blob(store, digest)
        try:
            info = read_info(blob)
        except BadMetadata as e:
            raise InvalidArgument(str(e)) from None
        except NotGGUF:
            raise InvalidArgument("supplied file was not in GGUF format") from None
        if info.metadata.get("general.type") == "mmproj" or info.architecture == "clip":
            plan.projectors.append((normalize_digest(digest), blob.stat().st_size))
        elif plan.model_blob is not None:
            raise InvalidArgument("only one model file is supported; split GGUF shards are not yet")
        else:
            plan.model_blob, plan.model_digest, plan.info = blob, normalize_digest(digest), info
    if spec.files and plan.model_blob is None and plan.base is None:
        raise InvalidArgument("no files provided to convert")
    if len(spec.adapters) > 1:
        raise InvalidArgument("only one adapter is currently supported")
    for fname, digest in spec.adapters.items():
        _check_relative(fname)
        plan.adapters.append((normalize_digest(digest), _blob(store, digest).stat().st_size))
    if plan.info is None and plan.base is not None:
        plan.info = read_info(plan.base.model_path)
    if spec.quantize:
        q = QUANT_ALIASES.get(spec.quantize.upper(), spec.quantize.upper())
        if q not in QUANT_TYPES:
            raise InvalidArgument(
                f"unsupported quantization type {spec.quantize} - supported types are "
                + ", ".join(QUANT_TYPES)
            )
        if plan.info is None or plan.info.file_type not in QUANTIZABLE:
            raise InvalidArgument("quantization is only supported for F16, BF16 and F32 models")
        plan.quantize = q
    if spec.template is not None:
        try:
            Template(spec.template)
        except TemplateError as e:
            raise InvalidArgument(f"template error: {e}") from None
    for m in spec.messages:
        if m.get("role") not in ("system", "user", "assistant", "tool"):
            raise InvalidArgument(f"invalid message role {m.get('role')!r}")
    return plan


def _blob(store: ModelStore, digest: str) -> Path:
    try:
        path = store.blobs.path(digest)
    except InvalidDigest:
        raise InvalidArgument("invalid digest format") from None
    if not path.is_file():
        raise InvalidArgument(f'blob "{normalize_digest(digest)}" not found')
    return path


def create(store: ModelStore, spec: CreateSpec, quantizer: Quantizer) -> Iterator[Progress]:
    """Validate, then build and write the model, yielding Ollama's status lines."""
    with STORE_LOCK:
        plan = _validate(store, spec)
        created: set[str] = set()
        try:
            yield from _write(store, spec, plan, quantizer, created)
        except BaseException:
            store.prune_blobs(created)
            raise


def _write(store: ModelStore, spec: CreateSpec, plan: _Plan, quantizer: Quantizer, created: set[str]):
    base = plan.base
    layers: list[mf.Layer] = []
    old_digests = _existing_layers(store, plan.name)

    def put(data: bytes) -> tuple[str, bool]:
        """Store a small blob (deduplicated); returns (digest, newly created by this call)."""
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        if not store.blobs.exists(digest):
            store.blobs.write_bytes(data)
            created.add(digest)
        return digest, digest in created

    def add(media: str, data: bytes | None = None, digest: str = "", size: int = 0, from_: str | None = None):
        if data is not None:
            digest, new = put(data)
            size = len(data)
        else:  # an existing blob (validated), or one this call made (quantized)
            new = digest in created
        layers.append(mf.Layer(media, digest, size, from_))
        return Progress(f"{'creating new layer' if new else 'using existing layer'} {digest}")

    template = spec.template
    params: dict = dict(base.params) if base else {}
    info = plan.info
    if plan.model_blob is not None:
        yield Progress("parsing GGUF")
    model_digest, model_size = plan.model_digest, 0
    if plan.model_blob is not None:
        model_size = plan.model_blob.stat().st_size
    if plan.quantize:
        src = plan.model_blob or (base.model_path if base else None)
        assert src is not None and info is not None
        yield from _quantize(store, src, info.file_type, plan.quantize, quantizer, created, out := {})
        model_digest, model_size = out["digest"], out["size"]
        info = read_info(store.blobs.path(model_digest))
        yield Progress("verifying conversion")
    if model_digest:
        yield add(mf.MEDIA_MODEL, digest=model_digest, size=model_size)
    if base:
        # Reuse the base's layers (marked `from`), unless the request replaces them:
        # its model by a new model file, its adapter by new adapters.
        replaced = {mf.MEDIA_MODEL: bool(model_digest), mf.MEDIA_ADAPTER: bool(plan.adapters)}
        for layer in base.manifest.layers:
            if layer.media_type in FROM_MEDIA and not replaced.get(layer.media_type):
                yield add(
                    layer.media_type,
                    digest=layer.digest,
                    size=layer.size,
                    from_=layer.from_ or base.name.display_shortest(),
                )
    for digest, size in plan.projectors:
        yield add(mf.MEDIA_PROJECTOR, digest=digest, size=size)
    for digest, size in plan.adapters:
        yield add(mf.MEDIA_ADAPTER, digest=digest, size=size)

    if template is None and base and base.template:
        template = base.template
    if template is None and plan.model_blob is not None and info and info.chat_template:
        detected = builtin.detect(info.chat_template)
        if detected is not None:
            template = detected.template
            params = {**detected.params, **params}
            yield Progress(f"using autodetected template {detected.name}")
    if template:
        yield add(mf.MEDIA_TEMPLATE, template.encode())
    system = spec.system if spec.system is not None else (base.system if base else "")
    if system:
        yield add(mf.MEDIA_SYSTEM, system.encode())
    params.update(spec.parameters)
    if params:
        yield add(mf.MEDIA_PARAMS, gojson.dumps(dict(sorted(params.items()))).encode())
    messages = spec.messages or (base.messages if base else [])
    if messages:
        shaped = [{"role": m.get("role", ""), "content": m.get("content", "")} for m in messages]
        yield add(mf.MEDIA_MESSAGES, gojson.dumps(shaped).encode())
    for text in spec.license or (base.license if base else []):
        yield add(mf.MEDIA_LICENSE, text.encode())

    extra = {
        k: v
        for k, v in (("renderer", spec.renderer), ("parser", spec.parser), ("requires", spec.requires))
        if v
    }
    if info is not None and (model_digest or not base):
        config = config_for(info, **extra)
    else:
        config = {**(base.config if base else {}), **extra}
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_digest, _ = put(config_bytes)
    yield Progress("writing manifest")
    store.write_manifest(
        plan.name, mf.Manifest(mf.Layer(mf.CONFIG_MEDIA_TYPE, config_digest, len(config_bytes)), layers)
    )
    created.clear()  # referenced now: nothing to undo
    # Layers of a replaced manifest that nothing references any more go (Ollama, unless NOPRUNE).
    store.prune_blobs(old_digests)
    yield Progress("success")


def _existing_layers(store: ModelStore, name: Name) -> set[str]:
    path = store.manifest_path(name)
    if not path.is_file():
        return set()
    try:
        m = mf.parse_manifest(path.read_bytes())
    except (ValueError, KeyError):
        return set()
    return {layer.digest for layer in [m.config, *m.layers]}


def _quantize(
    store, src: Path, from_type: str, to_type: str, quantizer: Quantizer, created: set[str], out: dict
):
    total = src.stat().st_size
    status = f"quantizing {from_type} model to {to_type}"
    yield Progress(status, digest="0000000000000000000", total=total, completed=0)
    store.blobs.root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="sha256-", suffix="-quantize", dir=store.blobs.root)
    os.close(fd)
    try:
        quantizer(src, Path(tmp), to_type)
        with open(tmp, "rb") as f:
            digest = store.blobs.write_chunks(None, iter(lambda: f.read(1 << 20), b""))
    finally:
        Path(tmp).unlink(missing_ok=True)
    created.add(digest)
    out["digest"], out["size"] = digest, store.blobs.size(digest)
    yield Progress(status, digest="0000000000000000000", total=total, completed=total)
