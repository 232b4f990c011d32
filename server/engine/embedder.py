"""Embeddings on a second context over the same weights."""

from __future__ import annotations

import llama_cpp as lc

from server.engine.batch import put, threads_for
from server.engine.types import LoadOptions
from server.errors import Internal, InvalidArgument


class Embedder:
    """A second context on the same weights, with embeddings on and a pooling layer.

    Models that declare a pooling type (embedding models) use it; generative models
    have none, and get their last token's hidden state (llama.cpp's LAST pooling).
    Several inputs share one llama_decode as separate sequences.
    """

    MAX_SEQS = 8

    def __init__(self, model, num_ctx: int, options: LoadOptions):
        self.num_ctx = num_ctx
        # llama.cpp asserts one output per sequence fits a ubatch (n_ubatch = num_ctx).
        self.max_seqs = min(self.MAX_SEQS, num_ctx)
        self.n_embd = lc.llama_model_n_embd(model)
        self._ctx = self._context(model, lc.LLAMA_POOLING_TYPE_UNSPECIFIED, options)
        if lc.llama_pooling_type(self._ctx) == lc.LLAMA_POOLING_TYPE_NONE:
            lc.llama_free(self._ctx)
            self._ctx = self._context(model, lc.LLAMA_POOLING_TYPE_LAST, options)
        self._mem = lc.llama_get_memory(self._ctx)
        self._batch = lc.llama_batch_init(num_ctx, 0, self.max_seqs)

    def _context(self, model, pooling: int, options: LoadOptions):
        threads = threads_for(options)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = self.num_ctx
        cparams.n_batch = self.num_ctx  # one whole input per ubatch, as pooling wants
        cparams.n_ubatch = self.num_ctx
        cparams.n_seq_max = self.max_seqs
        cparams.kv_unified = True
        cparams.embeddings = True
        cparams.pooling_type = pooling
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        ctx = lc.llama_init_from_model(model, cparams)
        if not ctx:
            raise Internal("failed to create the embedding context")
        return ctx

    def run(self, inputs: list[list[int]]) -> list[list[float]]:
        out: list[list[float]] = []
        group: list[list[int]] = []
        for tokens in inputs:
            if not tokens:
                raise InvalidArgument("cannot embed an empty input")
            if len(tokens) > self.num_ctx:
                raise InvalidArgument("the input length exceeds the context length")
            if group and (len(group) == self.max_seqs or sum(map(len, group)) + len(tokens) > self.num_ctx):
                out += self._decode(group)
                group = []
            group.append(tokens)
        if group:
            out += self._decode(group)
        return out

    def _decode(self, group: list[list[int]]) -> list[list[float]]:
        b = self._batch
        i = 0
        for seq_id, tokens in enumerate(group):
            for pos, tok in enumerate(tokens):
                put(b, i, tok, pos, seq_id, pos == len(tokens) - 1)
                i += 1
        b.n_tokens = i
        lc.llama_memory_clear(self._mem, True)
        rc = lc.llama_decode(self._ctx, b)
        if rc != 0:
            raise Internal(f"llama_decode failed with status {rc}")
        vectors = []
        for seq_id in range(len(group)):
            ptr = lc.llama_get_embeddings_seq(self._ctx, seq_id)
            if not ptr:
                raise Internal("the model produced no embedding")
            vectors.append(ptr[: self.n_embd])
        return vectors

    def close(self) -> None:
        lc.llama_batch_free(self._batch)
        lc.llama_free(self._ctx)
