"""Bounds on what one request may ask for, checked before anything reaches llama.cpp.

One table, used by the inference service (request options) and by create (a
Modelfile's PARAMETERs, so a model that cannot run is never saved). Each bound
answers a way one request could take the service down for everyone:

- num_batch below the parallel slots aborts the process in llama.cpp
  (`GGML_ASSERT(n_outputs_max <= cparams.n_outputs_max)`), so it is raised to the
  slots; above the whole context it only allocates, so it is lowered to it.
- num_ctx and repeat_last_n size allocations (the KV cache, the penalty ring buffer):
  2**31 asks for gigabytes, so they are capped.
- num_thread starts that many OS threads; more than the cores only slows everyone.
- A prompt is tokenized in a worker; 63 MB of text took 29 s of a core, so prompts
  (and the `format` schema, compiled to a grammar) have a size cap.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from server.errors import InvalidArgument
from tokenwire_common.limits import MAX_JSON_DEPTH, json_depth

# The largest context a request may name. Models cap it further at their trained size.
MAX_NUM_CTX = 1 << 20
MIN_NUM_CTX = 4
MAX_NUM_BATCH = 1 << 16
# A prompt (or system, suffix, one message) in bytes; the tokenizer's cost is linear.
MAX_PROMPT_BYTES = 8 << 20
# Images in one request, and the size of one (a vision model turns each into hundreds
# of tokens; the shim's 64 MiB body limit bounds them all over REST).
MAX_IMAGES = 32
MAX_IMAGE_BYTES = 32 << 20
# A `format` JSON schema and a tool's parameters, serialized.
MAX_SCHEMA_BYTES = 256 << 10


@dataclass(frozen=True)
class Bound:
    low: float
    high: float


# Request options that are refused outside these bounds (instead of clamped): a value
# out of range is the caller's mistake, and silently changing it would hide it.
OPTION_BOUNDS: dict[str, Bound] = {
    "num_ctx": Bound(0, MAX_NUM_CTX),
    "num_batch": Bound(0, MAX_NUM_BATCH),
    "num_thread": Bound(0, 1 << 16),
    "num_predict": Bound(-2, 2**31 - 1),
    "num_keep": Bound(-1, 2**31 - 1),
    "repeat_last_n": Bound(-1, MAX_NUM_CTX),
    "top_k": Bound(-(2**31), 2**31 - 1),
    "mirostat": Bound(0, 2),
}


def check_option(key: str, value: Any) -> None:
    """Refuse an option value outside its bound with a message naming the bound."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if not math.isfinite(value):  # gRPC clients can send NaN and infinities in floats
        raise InvalidArgument(f'option "{key}" must be a finite number')
    bound = OPTION_BOUNDS.get(key)
    if bound is not None and not bound.low <= value <= bound.high:
        raise InvalidArgument(
            f'option "{key}" must be between {int(bound.low)} and {int(bound.high)}, got {value}'
        )


def num_batch(requested: int, num_parallel: int, num_ctx: int) -> int:
    """At least one token per slot (llama.cpp asserts it), at most the whole context."""
    return max(num_parallel, min(requested, num_ctx * num_parallel))


def num_thread(requested: int) -> int:
    """0 means every core; more threads than cores are capped at the cores."""
    cores = os.cpu_count() or 1
    return cores if requested <= 0 else min(requested, cores)


def check_text(what: str, text: str) -> None:
    # len() counts code points; UTF-8 is at most 4 bytes each, so this avoids encoding
    # small texts at all and encodes only those near the limit.
    if len(text) * 4 > MAX_PROMPT_BYTES and len(text.encode()) > MAX_PROMPT_BYTES:
        raise InvalidArgument(f"{what} is too long: more than {MAX_PROMPT_BYTES} bytes")


def check_json(what: str, value: Any) -> None:
    if json_depth(value) > MAX_JSON_DEPTH:
        raise InvalidArgument(f"{what} is nested too deeply: more than {MAX_JSON_DEPTH} levels")


def check_images(images: list[bytes]) -> None:
    if len(images) > MAX_IMAGES:
        raise InvalidArgument(f"too many images: more than {MAX_IMAGES} in one request")
    if any(len(image) > MAX_IMAGE_BYTES for image in images):
        raise InvalidArgument(f"an image is too large: more than {MAX_IMAGE_BYTES} bytes")
