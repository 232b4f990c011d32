"""Quantize a GGUF with llama.cpp's own quantizer (what `ollama create --quantize` does)."""

from __future__ import annotations

from pathlib import Path

import llama_cpp as lc

from server.engine.llama import init_backend
from server.errors import Internal

# Ollama's accepted types (reference §7), upper-cased; Q4_K is an alias of Q4_K_M.
FTYPES = {
    "Q4_K_M": lc.LLAMA_FTYPE_MOSTLY_Q4_K_M,
    "Q4_K_S": lc.LLAMA_FTYPE_MOSTLY_Q4_K_S,
    "Q8_0": lc.LLAMA_FTYPE_MOSTLY_Q8_0,
    "F16": lc.LLAMA_FTYPE_MOSTLY_F16,
    "F32": lc.LLAMA_FTYPE_ALL_F32,
    "BF16": lc.LLAMA_FTYPE_MOSTLY_BF16,
}


def quantize(src: Path, dest: Path, quant_type: str, threads: int = 0) -> None:
    """Write `src` quantized to `quant_type` (a key of FTYPES) at `dest`."""
    init_backend()  # routes llama.cpp's log lines to our logger
    params = lc.llama_model_quantize_default_params()
    params.ftype = FTYPES[quant_type]
    params.nthread = threads
    rc = lc.llama_model_quantize(str(src).encode(), str(dest).encode(), params)
    if rc != 0:
        raise Internal(f"quantization to {quant_type} failed (llama.cpp status {rc})")
