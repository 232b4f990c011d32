"""Log-probabilities of sampled tokens from llama.cpp's raw logits. Pure.

Ollama reports log(softmax(logits)) of the model's own distribution, before the
sampler chain (temperature, top-k, ...) reshapes it, for the chosen token and for the
top_logprobs most likely alternatives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    bytes: bytes


@dataclass(frozen=True)
class Logprob(TokenLogprob):
    top_logprobs: tuple[TokenLogprob, ...] = ()


def logprob(logits: np.ndarray, token: int, top_n: int, piece: Callable[[int], bytes]) -> Logprob:
    """The chosen token's entry; `piece` gives a token's bytes."""
    x = logits.astype(np.float64)
    top = x.max()
    log_z = top + np.log(np.exp(x - top).sum())
    alternatives: tuple[TokenLogprob, ...] = ()
    if top_n > 0:
        ids = np.argpartition(-x, min(top_n, x.size - 1))[:top_n]
        ids = ids[np.argsort(-x[ids], kind="stable")]
        alternatives = tuple(_entry(int(i), float(x[i] - log_z), piece) for i in ids)
    chosen = _entry(token, float(x[token] - log_z), piece)
    return Logprob(chosen.token, chosen.logprob, chosen.bytes, alternatives)


def _entry(token: int, value: float, piece: Callable[[int], bytes]) -> TokenLogprob:
    raw = piece(token)
    return TokenLogprob(raw.decode("utf-8", errors="replace"), value, raw)
