"""One /api/chat request traced end to end: the caller's W3C traceparent reaches the
shim, goes on in gRPC metadata to the server, and an OTLP receiver gets the shim's
span and the server's (the RPC, then queue, load, prefill and decode with token counts)
in that one trace. The server's JSON log lines carry the trace id."""

from __future__ import annotations

import json
import secrets
import time

import httpx

from tests.otlp import Receiver
from tests.procs import start_server, start_shim

MODEL = "smollm2:135m"


def test_a_chat_request_is_one_trace_from_the_shim_into_the_engine(tmp_path):
    receiver = Receiver()
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100"}  # fmt: skip
    server = start_server(tmp_path / "models", TOKENWIRE_LOG_FORMAT="json", **otel)
    shim = start_shim(server.address, **otel)
    try:
        trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Say hi."}], "stream": False,
                "options": {"num_predict": 5, "temperature": 0}}  # fmt: skip
        reply = httpx.post(f"http://{shim.address}/api/chat", json=body, timeout=120,
                           headers={"traceparent": f"00-{trace_id}-{parent}-01"})  # fmt: skip
        assert reply.status_code == 200, reply.text
        answer = reply.json()

        rpc = "tokenwire.v1.InferenceService/Chat"
        spans = receiver.wait_for(trace_id, {"POST /api/chat", rpc, "queue", "load", "prefill", "decode"})
        by_name = {s["name"]: s for s in spans}
        http_span, rpc_span = by_name["POST /api/chat"], by_name[rpc]
        assert http_span["service"] == "tokenwire-shim" and http_span["parent"] == parent
        assert rpc_span["service"] == "tokenwire-server" and rpc_span["parent"] == http_span["span_id"]
        for phase in ("queue", "prefill", "decode"):
            assert by_name[phase]["parent"] == rpc_span["span_id"], phase
        assert by_name["load"]["parent"] == by_name["queue"]["span_id"]
        assert by_name["prefill"]["attributes"]["tokenwire.prompt_tokens"] == answer["prompt_eval_count"]
        assert by_name["decode"]["attributes"]["tokenwire.generated_tokens"] == answer["eval_count"]
        assert by_name["queue"]["end"] <= by_name["prefill"]["start"] + 1_000_000  # in order, to 1 ms
        assert by_name["prefill"]["end"] <= by_name["decode"]["start"] + 1_000_000
        assert rpc_span["start"] <= by_name["queue"]["start"] and by_name["decode"]["end"] <= rpc_span["end"]

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = [json.loads(line) for line in server.log if line.startswith("{")]
            if any(line["trace_id"] == trace_id for line in lines):
                break
            time.sleep(0.1)
        loaded = [line for line in lines if line["message"].startswith("loaded ")]
        assert loaded and loaded[0]["trace_id"] == trace_id and loaded[0]["level"] == "INFO"
    finally:
        shim.stop()
        server.stop()
        receiver.stop()
