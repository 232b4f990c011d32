"""Start-up clean-up of what a crash can leave in the store.

Every write in the store is a temporary file renamed into place, so a crash leaves
only temporary files and blobs no manifest names yet; never a manifest pointing at a
missing or half-written blob. At start (before any request) this removes:

- `manifests/**/.tmp-*` (manifest writes) and `blobs/*.tmp` (part-state writes);
- blob writes cut short (`sha256-<random>-partial` from uploads and creates,
  `sha256-<hex>-import-<pid>.tmp` from imports);
- download partials without their part state (or state without its bytes), and those
  older than `max_partial_age_s`
  (Ollama prunes every partial at start unless OLLAMA_NOPRUNE; we keep the recent
  ones with their state, so a pull cut off by a restart resumes);
- blobs no manifest references, as Ollama's PruneLayers does unless OLLAMA_NOPRUNE.

With `prune=False` (OLLAMA_NOPRUNE) only the temporary files go.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from server.store.models import ModelStore

_LOG = logging.getLogger(__name__)
_BLOB = re.compile(r"sha256-[0-9a-f]{64}")
_DOWNLOAD = re.compile(r"(sha256-[0-9a-f]{64})-partial")
_PART_STATE = re.compile(r"(sha256-[0-9a-f]{64})-partial-\d+")
_DIGEST = re.compile(r"sha256[:-]([0-9a-f]{64})")


def heal(store: ModelStore, *, prune: bool = True, max_partial_age_s: float = 24 * 3600) -> list[str]:
    """Remove what a crash left; returns the removed paths, relative to the store."""
    removed: list[str] = []

    def remove(path: Path) -> None:
        path.unlink(missing_ok=True)
        removed.append(str(path.relative_to(store.root)))

    if store.manifests.is_dir():
        for tmp in store.manifests.rglob(".tmp-*"):
            if tmp.is_file():
                remove(tmp)
    blobs = store.blobs.root
    if blobs.is_dir():
        _heal_blobs(store, blobs, prune, max_partial_age_s, remove)
    if removed:
        _LOG.info("store clean-up removed %d leftover file(s)", len(removed))
    return removed


def _resumable(files: list[Path], max_age_s: float) -> set[str]:
    """Digests whose download can resume: its bytes and part state are both there, it
    is younger than max_age_s, and the blob itself is not already complete."""
    names = {p.name for p in files}
    now = time.time()
    return {
        m.group(1)
        for p in files
        if (m := _DOWNLOAD.fullmatch(p.name))
        and f"{m.group(1)}-partial-0" in names
        and m.group(1) not in names
        and now - p.stat().st_mtime <= max_age_s
    }


def _heal_blobs(store: ModelStore, blobs: Path, prune: bool, max_age_s: float, remove) -> None:
    files = [p for p in blobs.iterdir() if p.is_file()]
    keep = _resumable(files, max_age_s)
    for path in files:
        if _BLOB.fullmatch(path.name):
            continue
        download = _DOWNLOAD.fullmatch(path.name) or _PART_STATE.fullmatch(path.name)
        if download is None or path.name.endswith(".tmp"):
            remove(path)  # an interrupted write: never resumable
        elif prune and download.group(1) not in keep:
            remove(path)  # a stale or broken download, bytes and state alike
    if prune:
        referenced = _mentioned(store)
        for path in blobs.iterdir():
            if _BLOB.fullmatch(path.name) and path.name[7:] not in referenced:
                remove(path)


def _mentioned(store: ModelStore) -> set[str]:
    """Every digest any file under manifests/ mentions. Deliberately looser than
    parsing: a manifest this version cannot read still keeps its blobs."""
    found: set[str] = set()
    if store.manifests.is_dir():
        for path in store.manifests.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                found.update(_DIGEST.findall(path.read_text(errors="replace")))
    return found
