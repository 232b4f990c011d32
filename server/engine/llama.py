"""LlamaEngine: one thread owns a llama_context with `num_parallel` sequence slots.

Each step builds one llama_batch that mixes one decode token per generating slot with
bounded prefill chunks of newcomers, runs one llama_decode, then samples every slot
that produced logits with that slot's own llama.cpp sampler chain. A finished slot
keeps its KV cache; the next request whose prompt shares a prefix with it only
prefills the new tokens. Nothing else touches the context (llama.cpp is not
thread-safe per context); the ctypes calls release the GIL, so the asyncio loop of
the gRPC server keeps running while the engine decodes.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections import deque
from pathlib import Path

import llama_cpp as lc
import numpy as np

from server.engine import logprobs
from server.engine.batch import put, threads_for
from server.engine.embedder import Embedder
from server.engine.media import Media
from server.engine.prefix import fork, pick, relocation, swap
from server.engine.sampling import plain_greedy, sampler_chain
from server.engine.slots import Feed, Seq, Slot, common_prefix
from server.engine.stops import StopMatcher
from server.engine.types import (
    CompletionRequest,
    DoneEvent,
    EmbedJob,
    EngineLoad,
    ErrorEvent,
    LoadOptions,
    Stream,
    TokenEvent,
    Wakes,
)
from server.errors import Internal, InvalidArgument

_LOG = logging.getLogger(__name__)
_BACKEND_LOCK = threading.Lock()
_ABORTABLE_STEP = 64  # tokens: smaller prefill steps are over before an abort would help
_BACKEND_READY = False


@lc.llama_log_callback
def _llama_log(level, text, user_data):  # pragma: no cover - called from C
    # llama.cpp is chatty at load; its lines go to our logger at DEBUG.
    _LOG.debug("%s", text.decode(errors="replace").rstrip())


def init_backend() -> None:
    global _BACKEND_READY
    with _BACKEND_LOCK:
        if not _BACKEND_READY:
            lc.llama_log_set(_llama_log, ctypes.c_void_p())
            lc.llama_backend_init()
            _BACKEND_READY = True


class LlamaEngine:
    def __init__(self, model_path: Path, options: LoadOptions):
        init_backend()
        self.options = options
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self._model = lc.llama_model_load_from_file(str(model_path).encode(), mparams)
        if not self._model:
            raise Internal(f"failed to load model {model_path}")
        self._vocab = lc.llama_model_get_vocab(self._model)
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        self.n_ctx_train = lc.llama_model_n_ctx_train(self._model)
        self.num_ctx = max(4, min(options.num_ctx, self.n_ctx_train or options.num_ctx))
        threads = threads_for(options)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = self.num_ctx * options.num_parallel
        cparams.n_batch = options.num_batch
        cparams.n_ubatch = options.num_batch
        cparams.n_seq_max = options.num_parallel
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        # One KV stream per slot: attention of each sequence spans only its own cells.
        # (A unified cache of num_ctx * num_parallel cells made single-stream decode
        # measurably slower here; sharing one prefix across slots would need it.)
        cparams.kv_unified = False
        self._ctx = lc.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            lc.llama_model_free(self._model)
            raise Internal("failed to create the llama.cpp context")
        self._mem = lc.llama_get_memory(self._ctx)
        self._can_shift = bool(lc.llama_memory_can_shift(self._mem))
        # Checked by ggml between graph nodes, installed only for steps with a long
        # prefill: a request cancelled meanwhile stops mid-step instead of after it.
        self._abort_for: list[Seq] = []
        self._abort_cb = lc.ggml_abort_callback(
            lambda _data: bool(self._abort_for) and all(q.stream.cancelled for q in self._abort_for)
        )
        self.size_bytes = self._memory_bytes()
        self._batch = lc.llama_batch_init(options.num_batch, 0, options.num_parallel)
        self._slots = [Slot(i) for i in range(options.num_parallel)]
        self._admitted = 0  # requests given a slot so far: the slots' LRU clock
        self._pending: deque[Seq] = deque()
        self._embed_jobs: deque[EmbedJob] = deque()
        self._embedder: Embedder | None = None  # made on first use, in the engine thread
        self._media = Media(Path(options.projector), self._model, threads) if options.projector else None
        self._cv = threading.Condition()
        self._closing = False
        self._piece = ctypes.create_string_buffer(256)
        self._thread = threading.Thread(target=self._run, name=f"engine-{model_path.name[:19]}", daemon=True)
        self._thread.start()

    def _memory_bytes(self) -> int:
        """What the loaded model holds, as Ollama's /api/ps reports it: the weights plus
        the KV cache of every slot (f16 K and V per layer). For SmolLM2 at 4096 tokens
        and one slot that is 88 + 94 MB, near Ollama's 209 MB, which also counts the
        compute buffers (not exposed by llama.cpp's C API)."""
        n_layer = lc.llama_model_n_layer(self._model)
        head_dim = lc.llama_model_n_embd(self._model) // max(1, lc.llama_model_n_head(self._model))
        kv_per_token = 2 * n_layer * head_dim * lc.llama_model_n_head_kv(self._model) * 2  # K+V, f16
        return int(lc.llama_model_size(self._model)) + kv_per_token * lc.llama_n_ctx(self._ctx)

    # ------------------------------------------------------------ any thread

    @property
    def pending(self) -> int:
        """Requests waiting for a free slot (counted against OLLAMA_MAX_QUEUE)."""
        return len(self._pending)

    def load_status(self) -> EngineLoad:
        """Read from another thread without the lock: a scrape may see a step half done,
        which a gauge tolerates; the engine thread is never held up for it."""
        slots = list(self._slots)
        busy = sum(1 for s in slots if s.seq is not None)
        used = sum(len(s.cached) for s in slots)
        return EngineLoad(busy, len(slots), min(1.0, used / max(1, self.num_ctx * len(slots))))

    def tokenize(self, text: str) -> list[int]:
        data = text.encode()
        cap = len(data) + 8
        arr = (lc.llama_token * cap)()
        n = lc.llama_tokenize(self._vocab, data, len(data), arr, cap, True, True)
        if n < 0:
            arr = (lc.llama_token * -n)()
            n = lc.llama_tokenize(self._vocab, data, len(data), arr, -n, True, True)
        return list(arr[:n])

    def submit(self, request: CompletionRequest, stream: Stream) -> None:
        """Tokenize and queue a request; its events go to `stream`. Blocking work
        (tokenizing, compiling a grammar): callers run it in a worker thread."""
        chunks = None
        if request.images:
            if self._media is None:
                raise InvalidArgument("this model does not support images")
            chunks, n_pos = self._media.tokenize(request.prompt, request.images)
            if n_pos >= self.num_ctx:
                self._media.free(chunks)
                raise InvalidArgument("the input length exceeds the context length")
            prompt = [-1] * n_pos  # positions without token ids: never a reusable prefix
        else:
            prompt = request.prefix_tokens + self.tokenize(request.prompt)
        if len(prompt) >= self.num_ctx and not request.truncate:
            raise InvalidArgument("the input length exceeds the context length")
        # Built here, in the caller's thread: a bad grammar fails this request only.
        sampler = sampler_chain(self._vocab, self.n_vocab, request.sampling, self.num_ctx)
        seq = Seq(request=request, stream=stream, prompt=prompt, sampler=sampler, chunks=chunks,
                  greedy=plain_greedy(sampler), t_submit=time.perf_counter())  # fmt: skip
        with self._cv:
            if self._closing:
                lc.llama_sampler_free(sampler)
                raise Internal("model is unloading")
            self._pending.append(seq)
            self._cv.notify()

    def embed(self, job: EmbedJob) -> None:
        """Queue token lists for embedding; the engine thread runs them between steps."""
        with self._cv:
            if self._closing:
                raise Internal("model is unloading")
            self._embed_jobs.append(job)
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
        self._thread.join()
        lc.llama_batch_free(self._batch)
        if self._embedder:
            self._embedder.close()
        if self._media is not None:
            self._media.close()
        lc.llama_free(self._ctx)
        lc.llama_model_free(self._model)

    # ------------------------------------------------------------ engine thread

    def _run(self) -> None:
        while True:
            with self._cv:
                while (
                    not self._closing
                    and not self._pending
                    and not self._embed_jobs
                    and not any(s.seq for s in self._slots)
                ):
                    self._cv.wait()
                if self._closing:
                    for s in self._slots:
                        if s.seq:
                            s.seq.stream.post(ErrorEvent(Internal("model unloaded")))
                    for seq in self._pending:
                        seq.stream.post(ErrorEvent(Internal("model unloaded")))
                    for job in self._embed_jobs:
                        job.resolve(None, Internal("model unloaded"))
                    return
                self._admit()
                job = self._embed_jobs.popleft() if self._embed_jobs else None
            if job is not None:
                self._run_embed(job)
            try:
                self._step()
            except Exception as exc:  # an engine bug must not hang every client
                _LOG.exception("engine step failed")
                for s in self._slots:
                    self._fail(s, exc)

    def _run_embed(self, job: EmbedJob) -> None:
        if job.result.cancelled():
            return
        try:
            if self._embedder is None:
                self._embedder = Embedder(self._model, self.num_ctx, self.options)
            job.resolve(self._embedder.run(job.inputs))
        except Exception as exc:
            _LOG.exception("embedding failed")
            job.resolve(None, exc)

    def _admit(self) -> None:
        """Move pending requests into free slots, reusing cached prefixes (engine/prefix.py)."""
        while self._pending:
            seq = self._pending[0]
            if seq.stream.cancelled:
                self._pending.popleft()
                lc.llama_sampler_free(seq.sampler)
                continue
            free = [s for s in self._slots if s.seq is None]
            if not free:
                return
            self._pending.popleft()
            slot, source = pick(free, seq.prompt)
            busy = frozenset(s.seq_id for s in self._slots if s.seq is not None)
            target = relocation(free, slot, busy, filling=len(self._pending) + 1 >= len(free))
            if target is not None:  # keep the step one ubatch (engine/prefix.py)
                swap(self._ctx, self._mem, slot, target)
                source = slot if source is target else source
                slot = target
            if source is not None:
                fork(self._ctx, self._mem, source, slot)
            self._start(slot, seq)

    def _start(self, slot: Slot, seq: Seq) -> None:
        p = seq.request.sampling
        # Fit the prompt into the context: keep num_keep tokens at the front and the
        # most recent tokens, leaving room to generate (Ollama's truncation shape).
        limit = self.num_ctx - 1
        if len(seq.prompt) > limit:
            keep = len(seq.prompt) if p.num_keep < 0 else min(p.num_keep, limit // 2)
            seq.prompt = seq.prompt[:keep] + seq.prompt[len(seq.prompt) - (limit - keep) :]
        reuse = common_prefix(slot.cached, seq.prompt)
        if reuse == len(seq.prompt):
            reuse -= 1  # the last prompt token must be decoded to get logits
        lc.llama_memory_seq_rm(self._mem, slot.seq_id, reuse, -1)
        slot.cached = seq.prompt[:reuse]
        slot.prompt_len = len(seq.prompt)
        self._admitted += 1
        slot.used = self._admitted
        seq.n_fed = reuse
        seq.prompt_cached = reuse
        seq.stops = StopMatcher(p.stop)
        seq.t_start = time.perf_counter()
        slot.seq = seq
        if seq.chunks is not None:
            self._prefill_media(slot, seq)

    def _prefill_media(self, slot: Slot, seq: Seq) -> None:
        """A prompt with images: mtmd decodes its text and image chunks into this slot's
        KV (for this sequence alone, between steps), then its first token is sampled and
        it decodes in the shared batch like any other."""
        assert self._media is not None
        lc.llama_memory_seq_rm(self._mem, slot.seq_id, 0, -1)
        try:
            n = self._media.evaluate(self._ctx, seq.chunks, slot.seq_id, self.options.num_batch)
        except Exception as exc:
            lc.llama_memory_seq_rm(self._mem, slot.seq_id, 0, -1)
            slot.cached = []
            self._fail(slot, exc)
            return
        finally:
            self._media.free(seq.chunks)
            seq.chunks = None
        slot.cached = [-1] * n
        seq.prompt, seq.n_fed, seq.prompt_cached, seq.prompt_evaluated = [-1] * n, n, 0, n
        with Wakes() as wakes:
            self._sample(slot, -1, time.perf_counter(), wakes)

    def _release(self, slot: Slot) -> None:
        if slot.seq and slot.seq.sampler:
            lc.llama_sampler_free(slot.seq.sampler)
        slot.seq = None

    def _plan(self) -> list[Feed]:
        """This step's tokens: one decode token per generating slot first, then prompt
        chunks of newcomers within what is left of num_batch."""
        budget = self.options.num_batch
        feeds: list[Feed] = []
        for slot in self._slots:
            seq = slot.seq
            if seq is None:
                continue
            if seq.stream.cancelled:
                self._release(slot)
                continue
            if seq.next_token is not None:
                feeds.append(Feed(slot, [seq.next_token], len(slot.cached), decode=True, logits=True))
                budget -= 1
        for slot in self._slots:
            seq = slot.seq
            if seq is None or seq.n_fed >= len(seq.prompt) or budget <= 0:
                continue
            take = min(budget, len(seq.prompt) - seq.n_fed)
            chunk = seq.prompt[seq.n_fed : seq.n_fed + take]
            last = seq.n_fed + take == len(seq.prompt)
            feeds.append(Feed(slot, chunk, len(slot.cached), decode=False, logits=last))
            budget -= take
        return feeds

    def _step(self) -> None:
        feeds = self._plan()
        if not feeds:
            return
        rc = self._decode(feeds)
        if rc == 0:
            return
        self._rollback(feeds)
        if len(feeds) == 1:
            self._fail(feeds[0].slot, Internal(f"llama_decode failed with status {rc}"))
            return
        # One sequence's tokens can fail the whole batch (llama.cpp validates the batch
        # as one); decode each alone so only the sequence at fault ends.
        for feed in feeds:
            if feed.slot.seq is None:
                continue
            rc = self._decode([feed])
            if rc != 0:
                self._rollback([feed])
                self._fail(feed.slot, Internal(f"llama_decode failed with status {rc}"))

    def _decode(self, feeds: list[Feed]) -> int:
        """Put feeds in the batch, run llama_decode, sample what produced logits.
        Returns llama_decode's status; on 0 every feed advanced."""
        batch = self._batch
        n = 0
        outputs: list[tuple[Slot, int]] = []
        for feed in feeds:
            for k, tok in enumerate(feed.tokens):
                last = k == len(feed.tokens) - 1
                put(batch, n, tok, feed.start + k, feed.slot.seq_id, feed.logits and last)
                if feed.logits and last:
                    outputs.append((feed.slot, n))
                n += 1
        batch.n_tokens = n
        # A step of prefill only, long enough to matter, may be aborted from inside
        # llama_decode once every request in it is cancelled. (Not installed for decode
        # steps: ggml calls it between graph nodes and it would cost every token.)
        prefill_only = not any(f.decode for f in feeds) and n >= _ABORTABLE_STEP
        self._abort_for = [f.slot.seq for f in feeds if f.slot.seq] if prefill_only else []
        if prefill_only:
            lc.llama_set_abort_callback(self._ctx, self._abort_cb, None)
        try:
            rc = lc.llama_decode(self._ctx, batch)
        finally:
            if prefill_only:
                lc.llama_set_abort_callback(self._ctx, lc.ggml_abort_callback(), None)
                self._abort_for = []
        if rc == 2 and prefill_only:  # aborted: every request in the step was cancelled
            self._rollback(feeds)
            for feed in feeds:
                self._release(feed.slot)
            return 0
        if rc != 0:
            return rc
        for feed in feeds:
            seq = feed.slot.seq
            feed.slot.cached.extend(feed.tokens)
            if feed.decode:
                seq.next_token = None
            else:
                seq.n_fed += len(feed.tokens)
                seq.prompt_evaluated += len(feed.tokens)
        now = time.perf_counter()
        with Wakes() as wakes:  # every consumer with a token from this step, woken at once
            for slot, idx in outputs:
                slot.seq.max_batch = max(slot.seq.max_batch, len(outputs))
                try:
                    self._sample(slot, idx, now, wakes)
                except Exception as exc:  # one sequence's failure ends that sequence alone
                    _LOG.exception("sampling failed")
                    self._fail(slot, exc)
        return 0

    def _rollback(self, feeds: list[Feed]) -> None:
        """Forget whatever a failed or aborted decode left in these sequences' KV."""
        for feed in feeds:
            lc.llama_memory_seq_rm(self._mem, feed.slot.seq_id, feed.start, -1)
            del feed.slot.cached[feed.start :]

    def _fail(self, slot: Slot, exc: Exception) -> None:
        if slot.seq is not None:
            slot.seq.stream.post(ErrorEvent(exc))
            self._release(slot)

    def _token_bytes(self, token: int) -> bytes:
        n = lc.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, True)
        return self._piece.raw[: max(n, 0)]

    def _logits(self, idx: int) -> np.ndarray:
        """Batch output idx's logits, a view of llama.cpp's buffer until the next decode."""
        return np.ctypeslib.as_array(lc.llama_get_logits_ith(self._ctx, idx), shape=(self.n_vocab,))

    def _sample(self, slot: Slot, idx: int, now: float, wakes: Wakes) -> None:
        seq = slot.seq
        assert seq is not None
        if not seq.generated and not seq.t_first:
            seq.t_first = now
        if seq.greedy:  # the chain's greedy sampler alone: its argmax without its copy
            token = int(self._logits(idx).argmax())
        else:
            token = lc.llama_sampler_sample(seq.sampler, self._ctx, idx)
        if lc.llama_vocab_is_eog(self._vocab, token):
            self._finish(slot, "stop", now, wakes, flush=True)
            return
        seq.generated.append(token)
        text = seq.decoder.decode(self._token_bytes(token))
        emit, stopped = seq.stops.feed(text)
        entry = None
        if seq.request.logprobs:
            entry = logprobs.logprob(self._logits(idx), token, seq.request.top_logprobs, self._token_bytes)
        seq.stream.post(TokenEvent(emit, entry), wakes)
        limit = seq.request.sampling.num_predict
        if limit < 0:
            limit = 10 * self.num_ctx
        if stopped:
            self._finish(slot, "stop", now, wakes, flush=False)
        elif len(seq.generated) >= limit:
            self._finish(slot, "length", now, wakes, flush=True)
        elif len(slot.cached) + 1 >= self.num_ctx and not (seq.request.shift and self._shift(slot)):
            self._finish(slot, "length", now, wakes, flush=True)
        else:
            seq.next_token = token

    def _shift(self, slot: Slot) -> bool:
        """Free room by dropping half of the tokens after num_keep (Ollama's context shift)."""
        if not self._can_shift:
            return False
        n = len(slot.cached)
        keep = min(max(slot.seq.request.sampling.num_keep, 0), n // 2)
        discard = (n - keep) // 2
        if discard <= 0:
            return False
        lc.llama_memory_seq_rm(self._mem, slot.seq_id, keep, keep + discard)
        lc.llama_memory_seq_add(self._mem, slot.seq_id, keep + discard, -1, -discard)
        slot.cached = slot.cached[:keep] + slot.cached[keep + discard :]
        slot.prompt_len = min(slot.prompt_len, keep)
        return True

    def _finish(self, slot: Slot, reason: str, now: float, wakes: Wakes, *, flush: bool) -> None:
        """End a sequence. flush: emit text held back as a possible stop prefix."""
        seq = slot.seq
        assert seq is not None
        # The decoder may hold the first bytes of a character cut off by num_predict:
        # dropped, as Ollama holds back partial UTF-8, rather than ended in U+FFFD.
        tail = seq.stops.flush() if flush else ""
        if tail:
            seq.stream.post(TokenEvent(tail), wakes)
        done = DoneEvent(
            done_reason=reason,
            # Ollama reports the whole prompt, cached or not (issue 17: 18, 1, 1 broke
            # every client's cost tracking); what was reused is reported beside it.
            prompt_eval_count=seq.prompt_cached + seq.prompt_evaluated,
            prompt_cached_count=seq.prompt_cached,
            stop_sequence=seq.stops.matched,
            prompt_eval_duration_ns=int((seq.t_first - seq.t_start) * 1e9),
            eval_count=len(seq.generated),
            eval_duration_ns=int((now - seq.t_first) * 1e9),
            context=[t for t in seq.prompt if t >= 0] + seq.generated,
            max_batch=seq.max_batch,
            queued_ns=int((seq.t_start - seq.t_submit) * 1e9),
        )
        # The slot is free before the answer is out: whoever reads the Done (a client,
        # GetLoad, the next request) sees it free.
        self._release(slot)
        seq.stream.post(done, wakes)
