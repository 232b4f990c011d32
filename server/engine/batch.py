"""Small helpers around llama.cpp's batch and thread settings, shared by the engine's
generation and embedding contexts."""

from __future__ import annotations

import os

from server.engine.types import LoadOptions


def threads_for(options: LoadOptions) -> int:
    return options.num_thread or os.cpu_count() or 1


def put(batch, i: int, token: int, pos: int, seq_id: int, logits: bool) -> None:
    """Set entry i of a llama_batch: one token of one sequence."""
    batch.token[i] = token
    batch.pos[i] = pos
    batch.n_seq_id[i] = 1
    batch.seq_id[i][0] = seq_id
    batch.logits[i] = logits
