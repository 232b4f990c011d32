"""Start-up clean-up of what a crash can leave in the store.

Every write in the store is a temporary file renamed into place, so a crash leaves
only temporary files and blobs no manifest names yet; never a manifest pointing at a
missing or half-written blob. At start (before any request) this removes:

- `manifests/**/.tmp-*` (manifest writes) and `blobs/*.tmp` (part-state writes);
- blob writes cut short (`sha256-<random>-partial` from uploads and creates,
  `sha256-<hex>-partial-<pid>` from imports);
- download partials that no part state claims, or older than `max_partial_age_s`
  (Ollama prunes every partial at start unless OLLAMA_NOPRUNE; we keep the recent
  ones with their state, so a pull cut off by a restart resumes);
- blobs no manifest references, as Ollama's PruneLayers does unless OLLAMA_NOPRUNE.

With `prune=False` (OLLAMA_NOPRUNE) only the temporary files go.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from server.store.models import ModelStore

_LOG = logging.getLogger(__name__)
_BLOB = re.compile(r"sha256-[0-9a-f]{64}")
_DOWNLOAD = re.compile(r"(sha256-[0-9a-f]{64})-partial")
_PART_STATE = re.compile(r"(sha256-[0-9a-f]{64})-partial-\d+")
_DIGEST = re.compile(r"sha256[:-]([0-9a-f]{64})")


@dataclass
class Healed:
    removed: list[str]

    def __bool__(self) -> bool:
        return bool(self.removed)


def heal(store: ModelStore, *, prune: bool = True, max_partial_age_s: float = 24 * 3600) -> Healed:
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
    return Healed(removed)


def _heal_blobs(store: ModelStore, blobs: Path, prune: bool, max_age_s: float, remove) -> None:
    files = [p for p in blobs.iterdir() if p.is_file()]
    names = {p.name for p in files}
    claimed = {m.group(1) for n in names if (m := _PART_STATE.fullmatch(n))}
    now = time.time()
    for path in files:
        name = path.name
        if _BLOB.fullmatch(name):
            continue
        if name.endswith(".tmp") or not (_DOWNLOAD.fullmatch(name) or _PART_STATE.fullmatch(name)):
            remove(path)  # an interrupted write: never resumable
            continue
        if not prune:
            continue
        if download := _DOWNLOAD.fullmatch(name):
            stale = now - path.stat().st_mtime > max_age_s
            if stale or download.group(1) not in claimed or download.group(1) in names:
                remove(path)
        elif (state := _PART_STATE.fullmatch(name)) and f"{state.group(1)}-partial" not in names:
            remove(path)  # part state without its bytes
        elif state and not (blobs / f"{state.group(1)}-partial").exists():
            remove(path)  # its partial was removed just now as stale
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
