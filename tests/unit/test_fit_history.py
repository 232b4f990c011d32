"""Chat history cutting by bisection picks the cut Ollama's one-by-one search picks."""

from __future__ import annotations

import random
from dataclasses import dataclass

from server.generation.prompt import fit_history
from server.template.prompt import ChatMessage


@dataclass
class WordEngine:
    """Counts words as tokens: enough to check where history is cut."""

    num_ctx: int
    calls: int = 0

    def tokenize(self, text: str) -> list[int]:
        self.calls += 1
        return [0] * len(text.split())


def render(messages: list[ChatMessage]) -> str:
    return " ".join(f"<{m.role}> {m.content}" for m in messages)


def linear(messages: list[ChatMessage], engine: WordEngine) -> str:
    """Ollama's chatPrompt as written: one cut point after another."""
    for i in range(len(messages)):
        kept = [m for m in messages[:i] if m.role == "system"] + messages[i:]
        text = render(kept)
        if i == len(messages) - 1 or len(engine.tokenize(text)) <= engine.num_ctx:
            return text
    raise AssertionError("unreachable")


def test_bisection_matches_the_linear_search():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randrange(1, 40)
        messages = [
            ChatMessage(
                rng.choice(["system", "user", "assistant"]),
                " ".join("w" * rng.randrange(1, 3) for _ in range(rng.randrange(1, 30))),
            )
            for _ in range(n)
        ]
        ctx = rng.randrange(5, 400)
        got = fit_history(messages, render(messages), render, WordEngine(ctx), 0)
        assert got == linear(messages, WordEngine(ctx))


def test_three_thousand_messages_take_a_few_renders():
    messages = [ChatMessage("user" if i % 2 else "assistant", f"message {i} " * 8) for i in range(3001)]
    engine = WordEngine(4096)
    fit_history(messages, render(messages), render, engine, 0)
    assert engine.calls <= 14  # log2(3000) + 2, where one by one took hundreds
