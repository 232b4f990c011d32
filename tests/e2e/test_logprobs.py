"""logprobs over gRPC equal log(softmax) of llama.cpp's own logits for the chosen
token, to 1e-4; the alternatives are the most likely tokens, best first."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pytest

from server.bootstrap import SMOLLM2, cached_path
from server.engine.batch import put
from server.settings import Settings
from tests.conftest import MODEL
from tests.procs import start_server
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

N_CTX = 512
PROMPT = "<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n"


class Reference:
    """The same GGUF in llama.cpp's own API, outside the server, with the context the
    server makes for one slot (so the same kernels compute the same logits)."""

    def __init__(self, n_ctx: int):
        import llama_cpp as lc

        self.lc = lc
        lc.llama_backend_init()
        path = cached_path(Settings.from_env().cache_dir, SMOLLM2)
        mparams = lc.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self.model = lc.llama_model_load_from_file(str(path).encode(), mparams)
        self.vocab = lc.llama_model_get_vocab(self.model)
        self.n_vocab = lc.llama_vocab_n_tokens(self.vocab)
        cparams = lc.llama_context_default_params()
        cparams.n_ctx = cparams.n_batch = cparams.n_ubatch = n_ctx
        cparams.n_seq_max, cparams.kv_unified = 1, False
        self.ctx = lc.llama_init_from_model(self.model, cparams)
        self.batch = lc.llama_batch_init(n_ctx, 0, 1)
        self.pos = 0

    def tokenize(self, text: bytes, add_special: bool) -> list[int]:
        arr = (self.lc.llama_token * (len(text) + 8))()
        n = self.lc.llama_tokenize(self.vocab, text, len(text), arr, len(arr), add_special, True)
        return list(arr[:n])

    def logits_after(self, tokens: list[int]) -> np.ndarray:
        """Decode tokens (one batch); the logits after the last, as float64."""
        b = self.batch
        for i, t in enumerate(tokens):
            put(b, i, t, self.pos + i, 0, logits=i == len(tokens) - 1)
        b.n_tokens = len(tokens)
        assert self.lc.llama_decode(self.ctx, b) == 0
        self.pos += len(tokens)
        ptr = self.lc.llama_get_logits_ith(self.ctx, len(tokens) - 1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)

    def close(self) -> None:
        self.lc.llama_batch_free(self.batch)
        self.lc.llama_free(self.ctx)
        self.lc.llama_model_free(self.model)


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("logprobs"), OLLAMA_NUM_PARALLEL="1")
    with grpc.insecure_channel(server.address) as channel:
        yield channel
    server.stop()


def test_logprobs_are_log_softmax_of_the_logits(one_slot):
    stub = inference_pb2_grpc.InferenceServiceStub(one_slot)
    request = inference_pb2.GenerateRequest(
        model=MODEL, prompt=PROMPT, raw=True, logprobs=True, top_logprobs=3,
        options=types_pb2.Options(num_predict=6, temperature=0, num_ctx=N_CTX, num_batch=N_CTX),
    )  # fmt: skip
    chunks = list(stub.Generate(request, timeout=60))
    entries = [e for c in chunks for e in c.logprobs]
    assert len(entries) == chunks[-1].eval_count == 6
    assert "".join(e.token for e in entries) == "".join(c.response for c in chunks)
    for e in entries:
        assert len(e.top_logprobs) == 3
        tops = [t.logprob for t in e.top_logprobs]
        assert tops == sorted(tops, reverse=True)
        assert e.top_logprobs[0].token == e.token  # greedy took the most likely token
        assert e.bytes == e.token.encode()

    reference = Reference(N_CTX)
    try:
        feed = reference.tokenize(PROMPT.encode(), add_special=True)  # as the server does
        for e in entries:
            logits = reference.logits_after(feed)
            token = reference.tokenize(e.bytes, add_special=False)
            assert len(token) == 1, (e.token, token)
            top = logits.max()
            expected = logits[token[0]] - (top + math.log(np.exp(logits - top).sum()))
            assert abs(e.logprob - expected) < 1e-4, (e.token, e.logprob, expected)
            feed = token
    finally:
        reference.close()


def test_logprobs_are_accumulated_when_not_streamed(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    request = inference_pb2.ChatRequest(
        model=MODEL, stream=False, logprobs=True,
        messages=[types_pb2.Message(role="user", content="Say hi.")],
        options=types_pb2.Options(num_predict=5, temperature=0),
    )  # fmt: skip
    (only,) = list(stub.Chat(request, timeout=60))
    assert len(only.logprobs) == only.eval_count and all(e.logprob <= 0 for e in only.logprobs)
    assert not any(e.top_logprobs for e in only.logprobs)  # top_logprobs 0: none


def test_the_official_clients_read_logprobs(shim_url):
    import ollama
    import openai

    client = ollama.Client(host=shim_url)
    greedy = {"num_predict": 4, "temperature": 0}
    r = client.generate(model=MODEL, prompt="Say hi.", logprobs=True, top_logprobs=2, options=greedy)
    assert len(r.logprobs) == r.eval_count and len(r.logprobs[0].top_logprobs) == 2
    parts = list(client.chat(model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True,
                             logprobs=True, options=greedy))  # fmt: skip
    assert sum(len(p.logprobs or []) for p in parts) == parts[-1].eval_count
    with pytest.raises(ollama.ResponseError) as bad:
        client.generate(model=MODEL, prompt="x", logprobs=True, top_logprobs=21)
    assert (bad.value.status_code, bad.value.error) == (400, "top_logprobs must be between 0 and 20")

    oa = openai.OpenAI(base_url=f"{shim_url}/v1", api_key="x")
    chat = oa.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi."}], max_tokens=4, temperature=0,
        logprobs=True, top_logprobs=2,
    )  # fmt: skip
    content = chat.choices[0].logprobs.content
    assert len(content) == chat.usage.completion_tokens and len(content[0].top_logprobs) == 2
    assert content[0].bytes == list(content[0].token.encode())
    done = oa.completions.create(model=MODEL, prompt="Say hi.", max_tokens=4, temperature=0, logprobs=2)
    legacy = done.choices[0].logprobs
    assert len(legacy.tokens) == len(legacy.token_logprobs) == done.usage.completion_tokens
    assert "".join(legacy.tokens) == done.choices[0].text and len(legacy.top_logprobs[0]) <= 2
