"""The context window as Ollama handles it: chat history truncation, truncate=false,
context shift, and an abort that stops a long prefill midway (real model, own servers)."""

from __future__ import annotations

import threading
import time

import grpc
import httpx
import pytest

from tests.conftest import MODEL
from tests.procs import start_server, start_shim
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

NUM_CTX = 160


def greedy(**kw) -> types_pb2.Options:
    return types_pb2.Options(temperature=0, seed=1, **kw)


def history() -> list[dict]:
    msgs = [{"role": "system", "content": "You are terse."}]
    for i in range(8):
        msgs.append({"role": "user", "content": f"Question {i}: what is {i} plus {i}? Explain step by step."})
        msgs.append(
            {"role": "assistant", "content": f"{i} plus {i} is {2 * i}, because adding {i} twice gives it."}
        )
    msgs.append({"role": "user", "content": "And what is ten plus ten?"})
    return msgs


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("models"), OLLAMA_NUM_PARALLEL="1")
    shim = start_shim(server.address)
    yield server, httpx.Client(base_url=f"http://{shim.address}", timeout=300)
    shim.stop()
    server.stop()


def test_chat_history_is_cut_to_the_context_keeping_system_and_last(shim):
    _, client = shim
    msgs = history()

    def tokens(kept: list[dict]) -> int:
        text = client.post("/api/chat", json={"model": MODEL, "messages": kept, "_debug_render_only": True})
        rendered = text.json()["_debug_info"]["rendered_template"]
        return client.post("/api/embed", json={"model": MODEL, "input": rendered}).json()["prompt_eval_count"]

    full = client.post(
        "/api/embed",
        json={
            "model": MODEL,
            "input": client.post(
                "/api/chat", json={"model": MODEL, "messages": msgs, "_debug_render_only": True}
            ).json()["_debug_info"]["rendered_template"],
        },
    ).json()["prompt_eval_count"]
    assert full > NUM_CTX
    # What Ollama keeps: the system message plus the longest tail of the history that fits.
    expected = next(n for i in range(1, len(msgs)) if (n := tokens([msgs[0], *msgs[i:]])) <= NUM_CTX)
    r = client.post(
        "/api/chat",
        json={
            "model": MODEL,
            "messages": msgs,
            "stream": False,
            "options": {"num_ctx": NUM_CTX, "num_predict": 8},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["prompt_eval_count"] == expected

    r = client.post(
        "/api/chat",
        json={"model": MODEL, "messages": msgs, "truncate": False, "options": {"num_ctx": NUM_CTX}},
    )
    assert (r.status_code, r.json()) == (400, {"error": "the input length exceeds the context length"})


def test_context_shift_keeps_generating_and_shift_false_stops(shim):
    _, client = shim
    # A raw list the model keeps extending, so only the limits end it.
    body = {"model": MODEL, "prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", "raw": True, "stream": False}
    opts = {"num_ctx": 64, "num_predict": 100, "temperature": 0}
    shifted = client.post("/api/generate", json={**body, "options": opts}).json()
    assert (shifted["eval_count"], shifted["done_reason"]) == (100, "length")
    stopped = client.post("/api/generate", json={**body, "shift": False, "options": opts}).json()
    assert stopped["done_reason"] == "length"
    assert stopped["prompt_eval_count"] + stopped["eval_count"] <= 64  # all of it within num_ctx


def test_generate_truncate_false_refuses_a_long_prompt(shim):
    _, client = shim
    r = client.post(
        "/api/generate",
        json={"model": MODEL, "prompt": "word " * 100, "truncate": False, "options": {"num_ctx": 64}},
    )
    assert (r.status_code, r.json()) == (400, {"error": "the input length exceeds the context length"})


def test_cancel_during_a_long_prefill_frees_the_slot_midway(tmp_path):
    # One slot, one 2048-token prefill step: without the abort the slot stays busy
    # until the whole step is computed.
    server = start_server(tmp_path, OLLAMA_NUM_PARALLEL="1")
    try:
        with grpc.insecure_channel(server.address) as ch:
            stub = inference_pb2_grpc.InferenceServiceStub(ch)
            opts = greedy(num_ctx=4096, num_batch=2048, num_predict=1)

            def long_prompt(word: str) -> str:
                return " ".join(f"{word}{i}" for i in range(450))

            cold = list(
                stub.Generate(
                    inference_pb2.GenerateRequest(model=MODEL, prompt=long_prompt("a"), options=opts)
                )
            )
            full_prefill_s = cold[-1].prompt_eval_duration / 1e9
            assert 1000 < cold[-1].prompt_eval_count <= 2048 and full_prefill_s > 1  # one step

            call = stub.Generate(
                inference_pb2.GenerateRequest(model=MODEL, prompt=long_prompt("b"), options=opts)
            )
            threading.Timer(0.3, call.cancel).start()
            with pytest.raises(grpc.RpcError) as err:
                list(call)
            assert err.value.code() == grpc.StatusCode.CANCELLED
            t0 = time.perf_counter()
            after = list(stub.Generate(inference_pb2.GenerateRequest(model=MODEL, prompt="Hi", options=opts)))
            waited = time.perf_counter() - t0
            assert after[-1].done
            # The slot came free well before the cancelled step could have finished.
            assert waited < full_prefill_s / 2, (waited, full_prefill_s)
    finally:
        server.stop()
