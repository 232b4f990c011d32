"""What a generation yields: text split into content, thinking and tool calls as each
becomes certain, and one Final with the metrics; streamed, or aggregated as Ollama does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from server.engine.logprobs import Logprob
from server.template.thinking import ThinkingParser
from server.template.tools import ToolParser
from tokenwire.v1 import types_pb2
from tokenwire_common.structs import to_struct

DONE_REASONS = {
    "stop": types_pb2.DONE_REASON_STOP,
    "length": types_pb2.DONE_REASON_LENGTH,
    "load": types_pb2.DONE_REASON_LOAD,
    "unload": types_pb2.DONE_REASON_UNLOAD,
}


@dataclass
class Final:
    """The end of a generation: why, and Ollama's metrics (durations in nanoseconds)."""

    done_reason: str
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0
    context: tuple[int, ...] = ()
    max_batch: int = 0
    prompt_cached_count: int = 0
    stop_sequence: str = ""

    def metrics(self) -> dict:
        return {
            "done": True,
            "done_reason": DONE_REASONS[self.done_reason],
            "total_duration": self.total_duration,
            "load_duration": self.load_duration,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": self.prompt_eval_duration,
            "eval_count": self.eval_count,
            "eval_duration": self.eval_duration,
            "prompt_cached_count": self.prompt_cached_count,
            "stop_sequence": self.stop_sequence,
        }


@dataclass
class Text:
    """Raw text as the engine decoded it, and the logprobs of the tokens that made it."""

    text: str
    logprobs: tuple[Logprob, ...] = ()


@dataclass
class Piece:
    """Output that is certain: content, thinking and whole tool calls (Ollama JSON shape),
    and the logprobs of the tokens generated since the last piece. Ollama sends those
    with every chunk that carries tokens, even while a parser holds its text back."""

    content: str = ""
    thinking: str = ""
    tool_calls: tuple[dict, ...] = ()
    logprobs: tuple[Logprob, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.content or self.thinking or self.tool_calls or self.logprobs)


async def parsed(
    items: AsyncIterator[Text | Final],
    thinking: ThinkingParser | None,
    tools: ToolParser | None,
) -> AsyncIterator[Piece | Final]:
    """Split raw output into thinking, content and tool calls as they become certain."""

    def split(text: str, final: bool, logprobs: tuple[Logprob, ...] = ()) -> Piece:
        thought = ""
        if thinking is not None:
            thought, text = thinking.add(text)
            if final:
                more_thought, more_text = thinking.flush()
                thought, text = thought + more_thought, text + more_text
        calls: list[dict] = []
        if tools is not None:
            calls, text = tools.add(text)
            if final:
                text += tools.flush()
        return Piece(text, thought, tuple(calls), logprobs)

    async for item in items:
        if isinstance(item, Text):
            if piece := split(item.text, False, item.logprobs):
                yield piece
        else:
            if piece := split("", True):
                yield piece
            yield item


async def stream_or_aggregate(
    stream: bool, items: AsyncIterator[Piece | Final]
) -> AsyncIterator[tuple[Piece, Final | None]]:
    """(piece, None) per piece when streaming; with stream=false one (all of it, final):
    content and thinking concatenated, tool calls merged, as Ollama aggregates."""
    parts: list[Piece] = []
    async for item in items:
        if isinstance(item, Piece):
            if stream:
                yield item, None
            else:
                parts.append(item)
        else:
            whole = Piece(
                "".join(p.content for p in parts),
                "".join(p.thinking for p in parts),
                tuple(c for p in parts for c in p.tool_calls),
                tuple(lp for p in parts for lp in p.logprobs),
            )
            yield whole, item


def logprobs_pb(entries: tuple[Logprob, ...]) -> list[types_pb2.Logprob]:
    return [
        types_pb2.Logprob(
            token=e.token,
            logprob=e.logprob,
            bytes=e.bytes,
            top_logprobs=[
                types_pb2.TokenLogprob(token=t.token, logprob=t.logprob, bytes=t.bytes)
                for t in e.top_logprobs
            ],
        )
        for e in entries
    ]


def tool_call_pb(call: dict) -> types_pb2.ToolCall:
    """A parsed tool call (Ollama JSON shape) as the contract's message."""
    fn = call["function"]
    return types_pb2.ToolCall(
        id=call["id"],
        function=types_pb2.ToolCallFunction(
            index=fn["index"], name=fn["name"], arguments=to_struct(fn["arguments"])
        ),
    )
