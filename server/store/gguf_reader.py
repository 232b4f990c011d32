"""A fast GGUF metadata reader: header, key-values and tensor infos, no tensor data.

The `gguf` package's GGUFReader builds Python objects for every vocabulary entry on
open (5 s for a 49k-token vocabulary); listing and creating models only needs the
scalar metadata, so large arrays are skipped (their length kept) unless asked for.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType

_SCALARS = {
    0: ("<B", 1),
    1: ("<b", 1),
    2: ("<H", 2),
    3: ("<h", 2),
    4: ("<I", 4),
    5: ("<i", 4),
    6: ("<f", 4),
    7: ("<?", 1),
    10: ("<Q", 8),
    11: ("<q", 8),
    12: ("<d", 8),
}
_STRING, _ARRAY = 8, 9
_FLOAT32 = 6


def _float32(v: float) -> float:
    """A float32 as the shortest decimal that reads back as it (1e-05, not
    9.999999747378752e-06), as Go prints a float32 in Ollama's model_info."""
    return float(str(np.float32(v)))


MAGIC = b"GGUF"


class GGUFFormatError(ValueError):
    """Not a GGUF file, or a truncated one."""


@dataclass
class SkippedArray:
    """A large array that was not materialised (offset: where its items start)."""

    length: int
    item_type: int = 0
    offset: int = 0


@dataclass
class GGUFFile:
    version: int
    metadata: dict
    tensors: list[tuple[str, str, list[int]]]  # (name, ggml type name, dims)


def read(path: Path, arrays_up_to: int | None = 5) -> GGUFFile:
    """Read metadata; arrays longer than `arrays_up_to` become SkippedArray (None: keep all)."""
    with path.open("rb") as f:
        try:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            raise GGUFFormatError("empty file") from None
    try:
        return _parse(mm, arrays_up_to)
    except (struct.error, IndexError, UnicodeDecodeError) as e:
        raise GGUFFormatError(f"truncated or corrupt GGUF: {e}") from None
    finally:
        mm.close()


def _parse(mm: mmap.mmap, limit: int | None) -> GGUFFile:
    if mm[:4] != MAGIC:
        raise GGUFFormatError("not a GGUF file")
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", mm, 4)
    if version < 2:
        raise GGUFFormatError(f"unsupported GGUF version {version}")
    pos = 24

    def string(p: int) -> tuple[str, int]:
        (n,) = struct.unpack_from("<Q", mm, p)
        p += 8
        return mm[p : p + n].decode("utf-8", errors="replace"), p + n

    def value(t: int, p: int, keep: bool) -> tuple[object, int]:
        if t in _SCALARS:
            fmt, size = _SCALARS[t]
            v = struct.unpack_from(fmt, mm, p)[0]
            return (_float32(v) if t == _FLOAT32 else v), p + size
        if t == _STRING:
            return string(p)
        if t == _ARRAY:
            item_type, n = struct.unpack_from("<IQ", mm, p)
            p += 12
            materialise = keep and (limit is None or n <= limit)
            if item_type in _SCALARS:
                fmt, size = _SCALARS[item_type]
                if materialise:
                    items = list(struct.unpack_from(f"<{n}{fmt[1]}", mm, p))
                    if item_type == _FLOAT32:
                        items = [_float32(x) for x in items]
                    return items, p + n * size
                return SkippedArray(n, item_type, p), p + n * size
            start = p
            items = []
            for _ in range(n):
                item, p = value(item_type, p, materialise)
                if materialise:
                    items.append(item)
            return (items if materialise else SkippedArray(n, item_type, start)), p
        raise GGUFFormatError(f"unknown GGUF value type {t}")

    metadata: dict = {}
    for _ in range(n_kv):
        key, pos = string(pos)
        (t,) = struct.unpack_from("<I", mm, pos)
        metadata[key], pos = value(t, pos + 4, True)
    tensors = []
    for _ in range(n_tensors):
        name, pos = string(pos)
        (n_dims,) = struct.unpack_from("<I", mm, pos)
        dims = list(struct.unpack_from(f"<{n_dims}Q", mm, pos + 4))
        pos += 4 + 8 * n_dims
        ttype, _offset = struct.unpack_from("<IQ", mm, pos)
        pos += 12
        try:
            type_name = GGMLQuantizationType(ttype).name
        except ValueError:
            type_name = str(ttype)
        tensors.append((name, type_name, dims))
    return GGUFFile(version, metadata, tensors)


def string_item(path: Path, array: SkippedArray, index: int) -> str | None:
    """One string of a skipped string array (e.g. a token's text by id), or None."""
    if array.item_type != _STRING or not 0 <= index < array.length:
        return None
    with path.open("rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        p = array.offset
        for _ in range(index):
            (n,) = struct.unpack_from("<Q", mm, p)
            p += 8 + n
        (n,) = struct.unpack_from("<Q", mm, p)
        return mm[p + 8 : p + 8 + n].decode("utf-8", errors="replace")
    finally:
        mm.close()
