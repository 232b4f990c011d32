"""Content-addressed blobs: blobs/sha256-<64 hex> (reference §5).

Every write goes to a temporary file in the same folder, is hashed while written,
fsynced and renamed into place only when the digest matches, so a blob file that
exists is always complete and correct.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

_DIGEST = re.compile(r"sha256[:-]([0-9a-fA-F]{64})")


class InvalidDigest(ValueError):
    """Not of the form sha256:<64 hex>."""


class DigestMismatch(ValueError):
    def __init__(self, expected: str, got: str):
        super().__init__(f'digest mismatch, expected "{expected}", got "{got}"')


def normalize_digest(digest: str) -> str:
    """`sha256:<hex>` or `sha256-<hex>` -> `sha256:<hex lower>`; else InvalidDigest."""
    m = _DIGEST.fullmatch(digest or "")
    if not m:
        raise InvalidDigest(digest)
    return f"sha256:{m.group(1).lower()}"


class BlobStore:
    def __init__(self, root: Path):
        self.root = root / "blobs"

    def path(self, digest: str) -> Path:
        return self.root / normalize_digest(digest).replace(":", "-")

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def write_chunks(self, expected: str | None, chunks: Iterable[bytes]) -> str:
        """Write chunks as a blob; verify against `expected` if given. Returns the digest."""
        self.root.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix="sha256-", suffix="-partial", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    h.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            got = f"sha256:{h.hexdigest()}"
            if expected is not None and normalize_digest(expected) != got:
                raise DigestMismatch(normalize_digest(expected), got)
            os.replace(tmp, self.path(got))
            fsync_dir(self.root)
            return got
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_bytes(self, data: bytes) -> str:
        return self.write_chunks(None, [data])

    def import_file(self, src: Path, digest: str) -> None:
        """Place a file whose digest is already verified: hard link if possible, else copy."""
        dest = self.path(digest)
        if dest.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + f"-import-{os.getpid()}.tmp")  # heal.py removes leftovers
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        fsync_dir(self.root)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
