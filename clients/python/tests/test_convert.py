"""tokenwire_client's pure conversions: ollama-python's argument forms to requests, and
replies to ollama's types."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from google.protobuf import json_format

import tokenwire_client as tw
from tokenwire.v1 import inference_pb2, models_pb2, types_pb2
from tokenwire_client import _convert as c
from tokenwire_common.duration import FOREVER_NS


def _generate(**kw):
    args = dict(
        system=None, template=None, context=None, stream=False, think_=None, logprobs=None,
        top_logprobs=None, raw=None, format=None, images=None, options_=None, keep_alive_=None,
    )  # fmt: skip
    args.update(kw)
    return c.generate_request("m", "p", None, **args)


def test_keep_alive_takes_seconds_go_durations_and_negative_for_ever():
    assert _generate(keep_alive_=300).keep_alive.ToSeconds() == 300
    assert _generate(keep_alive_=1.5).keep_alive.ToMilliseconds() == 1500
    assert _generate(keep_alive_="5m").keep_alive.ToSeconds() == 300
    assert _generate(keep_alive_=-1).keep_alive.ToNanoseconds() == FOREVER_NS
    assert _generate(keep_alive_="-1m").keep_alive.ToNanoseconds() == FOREVER_NS
    assert _generate(keep_alive_=0).HasField("keep_alive")  # 0 unloads: present, not absent
    assert not _generate().HasField("keep_alive")
    with pytest.raises(tw.RequestError, match='time: unknown unit "x" in duration "5x"'):
        _generate(keep_alive_="5x")


def test_options_from_a_dict_or_options_ignore_unknown_keys_as_ollama_does():
    pb = _generate(
        options_={"temperature": 0, "num_predict": 8, "stop": ["\n"], "numa": True, "x": 1}
    ).options
    assert json_format.MessageToDict(pb, preserving_proto_field_name=True) == {
        "temperature": 0.0, "num_predict": 8, "stop": ["\n"],
    }  # fmt: skip
    assert _generate(options_=tw.Options(seed=42, use_mmap=False)).options.seed == 42
    assert _generate(options_=tw.Options(seed=42, use_mmap=False)).options.HasField("use_mmap")
    with pytest.raises(tw.RequestError, match='option "num_predict"'):
        _generate(options_={"num_predict": "many"})


def test_format_think_and_images():
    assert _generate(format="json").format.json is True
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    assert c.from_struct(_generate(format=schema).format.schema) == schema
    assert not _generate(format="").HasField("format")
    assert _generate(think_="high").think.level == types_pb2.THINK_LEVEL_HIGH
    assert _generate(think_=False).think.HasField("enabled")
    with pytest.raises(tw.RequestError, match="invalid think value"):
        _generate(think_="hot")
    png = b"\x89PNG\r\n"
    forms = [png, base64.b64encode(png).decode(), tw.Image(value=png)]
    assert list(_generate(images=forms).images) == [png] * 3
    with pytest.raises(tw.RequestError, match=r"File missing\.png does not exist"):
        _generate(images=["missing.png"])


def test_an_image_path_is_read(tmp_path: Path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    assert list(_generate(images=[str(tmp_path / "a.png"), tmp_path / "a.png"]).images) == [b"\x89PNG"] * 2


def add(a: int, b: float = 1.0) -> float:
    """Add two numbers.

    Args:
      a: The first number
      b (float): The second number

    Returns:
      float: the sum
    """
    return a + b


def test_a_python_function_becomes_a_tool_as_ollama_python_makes_it():
    tool = c.tool(add)
    assert tool.type == "function" and tool.function.name == "add"
    assert tool.function.description == "Add two numbers."
    assert c.from_struct(tool.function.parameters) == {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "integer", "description": "The first number"},
            "b": {"type": "number", "description": "The second number"},
        },
    }
    as_dict = c.tool({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}})
    assert as_dict.function.name == "f"


def test_messages_from_dicts_and_from_replies():
    reply = tw.Message(role="assistant", content="hi", tool_calls=[
        tw.Message.ToolCall(function={"name": "add", "arguments": {"a": 1}})
    ])  # fmt: skip
    pb = c.message(reply)
    assert (pb.role, pb.content, pb.tool_calls[0].function.name) == ("assistant", "hi", "add")
    assert c.from_struct(pb.tool_calls[0].function.arguments) == {"a": 1}
    assert c.message({"role": "tool", "content": "2", "tool_name": "add"}).tool_name == "add"


def test_replies_take_ollamas_shapes():
    chunk = inference_pb2.GenerateResponse(model="m", response="Hel", done=False)
    chunk.created_at.FromSeconds(1_700_000_000)
    part = c.generate_response(chunk)
    assert (part.response, part["done"], part.done_reason, part.eval_count) == ("Hel", False, None, None)
    assert part.created_at == "2023-11-14T22:13:20Z"
    final = inference_pb2.GenerateResponse(
        model="m", done=True, done_reason=types_pb2.DONE_REASON_LENGTH, eval_count=3, context=[1, 2]
    )
    last = c.generate_response(final)
    assert (last.done_reason, last["eval_count"], last.context) == ("length", 3, [1, 2])
    assert "eval_count" in last and "thinking" not in last and last.get("nope", 7) == 7
    call = types_pb2.ToolCall(
        function=types_pb2.ToolCallFunction(name="add", arguments=c.to_struct({"a": 2}))
    )
    chat = c.chat_response(
        inference_pb2.ChatResponse(model="m", message=types_pb2.Message(role="assistant", tool_calls=[call]))
    )
    assert chat.message.tool_calls[0].function.arguments == {"a": 2}  # 2, not 2.0
    assert chat["message"]["tool_calls"][0]["function"]["name"] == "add"


def test_show_and_list_replies():
    show = models_pb2.ShowModelResponse(modelfile="FROM x", details=types_pb2.ModelDetails(family="llama"))
    show.model_info.update({"llama.context_length": 8192, "general.architecture": "llama"})
    out = c.show_response(show)
    assert (
        out.modelinfo == out["model_info"] == {"llama.context_length": 8192, "general.architecture": "llama"}
    )
    assert out.details.family == "llama" and out.model_dump()["details"]["family"] == "llama"
    listed = models_pb2.ListModelsResponse(
        models=[models_pb2.ListModelsResponseModel(model="a:latest", size=5)]
    )
    listed.models[0].modified_at.FromSeconds(0)
    model = c.list_response(listed).models[0]
    assert (model.model, model.size, model.modified_at.year) == ("a:latest", 5, 1970)


def test_create_maps_ollama_pythons_arguments():
    pb = c.create_request(
        "new", "q8_0", "base", {"m.gguf": "sha256:" + "0" * 64}, None, "{{ .Prompt }}", "MIT", "Be terse.",
        {"temperature": 0.5, "stop": ["x"]}, [{"role": "user", "content": "hi"}], False,
    )  # fmt: skip
    assert (getattr(pb, "from"), pb.quantize, list(pb.license), pb.system) == (
        "base",
        "q8_0",
        ["MIT"],
        "Be terse.",
    )
    assert c.from_struct(pb.parameters) == {"temperature": 0.5, "stop": ["x"]}
    assert pb.HasField("template") and pb.HasField("stream") and not pb.stream
