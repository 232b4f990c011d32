"""Engine semantics with the real model: batching, determinism, limits, stops, prefix reuse."""

from __future__ import annotations

import threading

import grpc

from tests.conftest import MODEL
from tests.procs import start_server
from tokenwire.v1 import inference_pb2, inference_pb2_grpc, types_pb2

PROMPT = "Why is the sky blue?"


def run(stub, **kw) -> tuple[str, inference_pb2.GenerateResponse, dict]:
    call = stub.Generate(inference_pb2.GenerateRequest(**kw), timeout=180)
    chunks = list(call)
    return "".join(c.response for c in chunks), chunks[-1], dict(call.trailing_metadata())


def chatml(text: str) -> str:
    return f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"


def greedy(**kw) -> types_pb2.Options:
    return types_pb2.Options(temperature=0, seed=1, **kw)


def test_four_concurrent_streams_share_batches(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    topics = ["rivers", "mountains", "deserts", "forests"]
    results: list = [None] * 4
    barrier = threading.Barrier(4)

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = run(
            stub, model=MODEL, prompt=f"Describe {topics[i]} in detail.", options=greedy(num_predict=48)
        )

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batches = [int(meta["tokenwire-max-batch"]) for _, _, meta in results]
    assert all(final.eval_count == 48 for _, final, _ in results)
    assert max(batches) == 4, f"the 4 streams were never decoded in one step: {batches}"
    assert min(batches) >= 2


def test_same_greedy_request_twice_gives_the_same_output(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    first, _, _ = run(stub, model=MODEL, prompt="List three colours.", options=greedy(num_predict=40))
    second, _, _ = run(stub, model=MODEL, prompt="List three colours.", options=greedy(num_predict=40))
    assert first == second and first


def test_greedy_argmax_picks_what_llama_cpp_s_chain_picks(channel):
    """temperature 0 alone is sampled by the engine's own argmax (engine/sampling.py,
    plain_greedy); top_k 1 at temperature 1 goes through llama.cpp's sampler chain.
    Both must choose the same tokens."""
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    ours, _, _ = run(stub, model=MODEL, prompt=PROMPT, options=greedy(num_predict=48))
    chain = types_pb2.Options(temperature=1, top_k=1, seed=1, num_predict=48)
    theirs, _, _ = run(stub, model=MODEL, prompt=PROMPT, options=chain)
    assert ours == theirs and len(ours) > 40


def test_repetition_penalties_are_applied(channel):
    """repeat_penalty / frequency_penalty / presence_penalty build llama.cpp's penalties
    sampler (Modelfiles often set repeat_penalty 1.1); a strong penalty must make a
    greedy echo of one word repeat it less."""
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    prompt = "Write the word hello fifty times, separated by spaces."
    plain, _, _ = run(stub, model=MODEL, prompt=prompt, options=greedy(num_predict=48))
    penalised, final, _ = run(
        stub,
        model=MODEL,
        prompt=prompt,
        options=greedy(
            num_predict=48, repeat_penalty=1.8, repeat_last_n=64, frequency_penalty=1.0, presence_penalty=1.0
        ),
    )
    assert final.done and final.eval_count > 0
    assert penalised.lower().count("hello") < plain.lower().count("hello")


def test_every_sampler_configuration_decodes(channel):
    """Each branch of the sampler chain builds and samples (a wrong llama.cpp signature
    would fail here rather than in a user's request)."""
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    configs = [
        dict(temperature=0.7, top_k=20, top_p=0.8, min_p=0.05, typical_p=0.9, seed=3),
        dict(temperature=0.7, mirostat=1, mirostat_tau=4.0, mirostat_eta=0.2, seed=3),
        dict(temperature=0.7, mirostat=2, mirostat_tau=4.0, mirostat_eta=0.2, seed=3),
        dict(temperature=0.9, repeat_penalty=1.1, repeat_last_n=-1, seed=3),
    ]
    for options in configs:
        text, final, _ = run(
            stub, model=MODEL, prompt=PROMPT, options=types_pb2.Options(num_predict=8, **options)
        )
        assert final.done and final.eval_count == 8 and text, options
        again, _, _ = run(
            stub, model=MODEL, prompt=PROMPT, options=types_pb2.Options(num_predict=8, **options)
        )
        assert again == text, options  # same seed, same output


def test_num_predict_16_gives_eval_count_16_and_length(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    _, final, _ = run(stub, model=MODEL, prompt="Count to one hundred.", options=greedy(num_predict=16))
    assert final.eval_count == 16 and final.done_reason == types_pb2.DONE_REASON_LENGTH


def test_a_stop_string_ends_the_output_and_is_not_in_it(channel):
    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    free, _, _ = run(stub, model=MODEL, prompt=PROMPT, options=greedy(num_predict=48))
    word = free.split()[2]  # a word the greedy answer certainly contains
    stopped, final, _ = run(stub, model=MODEL, prompt=PROMPT, options=greedy(num_predict=48, stop=[word]))
    assert final.done_reason == types_pb2.DONE_REASON_STOP
    assert word not in stopped
    assert stopped == free[: free.index(word)]


def test_second_chat_turn_prefills_only_the_new_tokens(tmp_path):
    proc = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="2")
    try:
        with grpc.insecure_channel(proc.address) as ch:
            stub = inference_pb2_grpc.InferenceServiceStub(ch)

            def chat(messages, num_ctx):
                req = inference_pb2.ChatRequest(
                    model=MODEL, messages=messages, options=greedy(num_predict=24, num_ctx=num_ctx)
                )
                chunks = list(stub.Chat(req, timeout=120))
                return "".join(c.message.content for c in chunks), chunks[-1]

            user1 = types_pb2.Message(role="user", content="Name a fruit.")
            answer, t1 = chat([user1], 4096)
            turn2 = [
                user1,
                types_pb2.Message(role="assistant", content=answer),
                types_pb2.Message(role="user", content="And a vegetable?"),
            ]
            _, warm = chat(turn2, 4096)
            _, cold = chat(turn2, 2048)  # other runner options: a reload, so nothing is cached
            reused = t1.prompt_eval_count + t1.eval_count
            assert cold.prompt_eval_count > reused and cold.prompt_cached_count == 0
            # The whole prompt is counted either way, as Ollama counts it; the warm turn
            # evaluated only what follows the reused prefix.
            assert warm.prompt_eval_count == cold.prompt_eval_count
            evaluated = warm.prompt_eval_count - warm.prompt_cached_count
            assert 0 < evaluated <= cold.prompt_eval_count - reused + 3
    finally:
        proc.stop()


def test_two_conversations_sharing_a_header_keep_their_own_slots(tmp_path):
    """B shares only ChatML's header with A: it gets that prefix copied into the other
    slot (engine/prefix.py) instead of evicting A, so A again is all cached."""
    proc = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="2")

    try:
        with grpc.insecure_channel(proc.address) as ch:
            stub = inference_pb2_grpc.InferenceServiceStub(ch)

            def final(prompt: str) -> inference_pb2.GenerateResponse:
                options = greedy(num_predict=16)
                text, last, _ = run(stub, model=MODEL, prompt=prompt, raw=True, options=options)
                texts.append(text)
                return last

            texts: list[str] = []
            a, b = chatml("Name a fruit."), chatml("Describe the sea in winter.")
            first_a, first_b, again_a, again_b = final(a), final(b), final(a), final(b)
            assert texts[0] == texts[2] and texts[1] == texts[3]  # a copied KV decodes the same
            assert first_a.prompt_cached_count == 0
            assert 0 < first_b.prompt_cached_count < first_b.prompt_eval_count - 1  # the header
            assert again_a.prompt_cached_count == again_a.prompt_eval_count - 1  # all but the last
            assert again_b.prompt_cached_count == again_b.prompt_eval_count - 1
    finally:
        proc.stop()


def test_a_conversation_swapped_next_to_a_busy_slot_decodes_the_same(tmp_path):
    """D's prompt is cached in slot 3 when A decodes in slot 0: D's KV is swapped with
    slot 1's, next to A, so that their steps stay one ubatch (engine/prefix.py). D must
    get the same tokens from its whole cached prefix while batched with A, and the
    prompt slot 1 held must still be cached, now in slot 3."""
    proc = start_server(tmp_path / "models", OLLAMA_NUM_PARALLEL="4")

    try:
        with grpc.insecure_channel(proc.address) as ch:
            stub = inference_pb2_grpc.InferenceServiceStub(ch)

            def request(prompt: str, n: int):
                options = greedy(num_predict=n)
                req = inference_pb2.GenerateRequest(model=MODEL, prompt=prompt, raw=True, options=options)
                return stub.Generate(req, timeout=180)

            chats = [
                chatml(t) for t in ("Name a fruit.", "Name a tree.", "Name a bird.", "Describe the sea.")
            ]
            alone = ["".join(c.response for c in request(p, 16)) for p in chats]  # slots 0-3
            # Counting has no end-of-generation token before num_predict: A is still
            # decoding (in slot 0, the least recently used) while D runs.
            busy = request("1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", 200)
            assert not next(busy).done
            d = request(chats[3], 16)
            chunks = list(d)
            rest = list(busy)
            assert "".join(c.response for c in chunks) == alone[3]
            assert chunks[-1].prompt_cached_count == chunks[-1].prompt_eval_count - 1
            assert dict(d.trailing_metadata())["tokenwire-max-batch"] == "2"  # decoded beside A
            assert rest[-1].done and rest[-1].eval_count == 200
            again = list(request(chats[1], 16))
            assert "".join(c.response for c in again) == alone[1]
            assert again[-1].prompt_cached_count == again[-1].prompt_eval_count - 1
    finally:
        proc.stop()


def test_format_json_output_parses(channel):
    import json

    stub = inference_pb2_grpc.InferenceServiceStub(channel)
    text, final, _ = run(
        stub,
        model=MODEL,
        prompt="Describe a cat as JSON with keys name and colour.",
        format=types_pb2.Format(json=True),
        options=greedy(num_predict=200),
    )
    assert final.done_reason == types_pb2.DONE_REASON_STOP, "the grammar ends the object"
    assert isinstance(json.loads(text), dict)


def test_json_schema_format_output_validates(shim_url):
    import json

    import httpx

    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 20},
            "age": {"type": "integer"},
            "pets": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3},
        },
        "required": ["name", "age", "pets"],
    }
    r = httpx.post(
        f"{shim_url}/api/generate",
        timeout=180,
        json={
            "model": MODEL,
            "prompt": "Invent a person.",
            "format": schema,
            "stream": False,
            "options": {"temperature": 0, "num_predict": 200},
        },
    )
    out = json.loads(r.json()["response"])
    assert set(out) == {"name", "age", "pets"}
    assert isinstance(out["name"], str) and len(out["name"]) <= 20
    assert isinstance(out["age"], int) and isinstance(out["pets"], list) and len(out["pets"]) <= 3
    assert all(isinstance(p, str) for p in out["pets"])
