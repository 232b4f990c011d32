"""Thinking split from content, as Ollama's thinking parser (thinking/parser.go, template.go).

The tags are inferred from the template: the text just before `{{ .Thinking }}` inside
`range .Messages` is the opening tag and the text just after it the closing tag
(`<think>` / `</think>` for qwen3 and deepseek-r1 templates). Output that starts with
the opening tag (after whitespace), or any output when the prompt already ends with
it, is thinking until the closing tag; the rest is content.
"""

from __future__ import annotations

from typing import Any

from server.template.gotemplate import Action, Block, Template, Text
from server.template.prompt import _pipe_fields


def _thinking_neighbours(nodes: list[Any], in_range: bool) -> tuple[str, str] | None:
    for i, n in enumerate(nodes):
        if isinstance(n, Action) and in_range and "Thinking" in _pipe_fields(n.pipe):
            before = nodes[i - 1].text if i > 0 and isinstance(nodes[i - 1], Text) else ""
            after = nodes[i + 1].text if i + 1 < len(nodes) and isinstance(nodes[i + 1], Text) else ""
            return before, after
        if isinstance(n, Block):
            inside = in_range or (n.kind == "range" and "Messages" in _pipe_fields(n.pipe))
            for body in (n.body, n.else_body or []):
                if (found := _thinking_neighbours(body, inside)) is not None:
                    return found
    return None


def thinking_tags(template: Template) -> tuple[str, str] | None:
    found = _thinking_neighbours(template.nodes, False)
    if found is None:
        return None
    before, after = found
    opening = before.strip().rsplit("\n", 1)[-1].strip()
    closing = after.strip().split("\n", 1)[0].strip()
    if not opening or not closing:
        return None
    return opening, closing


def _partial_suffix(text: str, tag: str) -> int:
    for k in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-k:]):
            return k
    return 0


class ThinkingParser:
    """Feed output text; get (thinking, content) back as it becomes certain."""

    def __init__(self, opening: str, closing: str, prompt: str = ""):
        self.opening = opening
        self.closing = closing
        self.state = "thinking" if prompt.rstrip().endswith(opening) else "start"
        self.buffer = ""
        self.thought = False  # any thinking emitted yet (leading whitespace is dropped)

    def _thought(self, text: str) -> str:
        if not self.thought:
            text = text.lstrip()
            self.thought = bool(text)
        return text

    def add(self, text: str) -> tuple[str, str]:
        self.buffer += text
        thinking = content = ""
        while True:
            if self.state == "start":
                head = self.buffer.lstrip()
                if head.startswith(self.opening):
                    self.buffer = head[len(self.opening) :]
                    self.state = "thinking"
                    continue
                if head and not self.opening.startswith(head):
                    self.state = "content"
                    continue
                return thinking, content
            if self.state == "thinking":
                i = self.buffer.find(self.closing)
                if i >= 0:
                    thinking += self._thought(self.buffer[:i].rstrip())
                    self.buffer = self.buffer[i + len(self.closing) :]
                    self.state = "after"
                    continue
                # Hold back a possible closing-tag prefix and trailing whitespace (which
                # is dropped if the closing tag follows it).
                cut = len(self.buffer) - _partial_suffix(self.buffer, self.closing)
                cut = len(self.buffer[:cut].rstrip())
                thinking += self._thought(self.buffer[:cut])
                self.buffer = self.buffer[cut:]
                return thinking, content
            if self.state == "after":
                self.buffer = self.buffer.lstrip()
                if not self.buffer:
                    return thinking, content
                self.state = "content"
                continue
            content += self.buffer
            self.buffer = ""
            return thinking, content

    def flush(self) -> tuple[str, str]:
        rest, self.buffer = self.buffer, ""
        if self.state == "thinking":
            return self._thought(rest.rstrip()), ""
        return "", rest if self.state in ("start", "content") else ""
