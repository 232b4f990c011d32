"""Seed the default model into the store from the set-up cache.

`python -m server.bootstrap` (run by `make setup`) leaves the verified GGUF in the
cache. At start-up the server makes it a normal model of the store, `smollm2:135m`,
exactly as `ollama create` would lay it out: a model layer, a template layer, a params
layer with the template's stop sequences, and a config blob.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from server.bootstrap import SMOLLM2, PackagedModel, cached_path
from server.modelfile.build import config_for
from server.store import manifest as mf
from server.store.gguf_info import read_info
from server.store.models import ModelStore
from server.store.names import parse_name
from tokenwire_common import gojson

_LOG = logging.getLogger(__name__)


def seed_default_model(store: ModelStore, cache_dir: Path, model: PackagedModel = SMOLLM2) -> bool:
    """Create the packaged model in the store if it is missing. Returns True if created."""
    name = parse_name(model.name)
    if store.find_existing(name) is not None:
        return False
    gguf = cached_path(cache_dir, model)
    if not gguf.is_file():
        _LOG.warning("default model %s not seeded: %s missing (run `make setup`)", model.name, gguf)
        return False
    digest = f"sha256:{model.sha256}"
    store.blobs.import_file(gguf, digest)
    config = config_for(read_info(gguf))

    def blob_layer(media_type: str, data: bytes) -> mf.Layer:
        return mf.Layer(media_type, store.blobs.write_bytes(data), len(data))

    manifest = mf.Manifest(
        config=blob_layer(mf.CONFIG_MEDIA_TYPE, json.dumps(config, separators=(",", ":")).encode()),
        layers=[
            mf.Layer(mf.MEDIA_MODEL, digest, gguf.stat().st_size),
            blob_layer(mf.MEDIA_TEMPLATE, model.template.encode()),
            blob_layer(mf.MEDIA_PARAMS, gojson.dumps({"stop": list(model.stop)}).encode()),
        ],
    )
    store.write_manifest(name, manifest)
    _LOG.info("seeded %s into %s", model.name, store.root)
    return True
