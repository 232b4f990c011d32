"""Word wrap for streamed text, as `ollama run` does on a terminal: a word is held
until it ends, and a word that would pass the width starts a new line (the space before
it is dropped). Pure."""

from __future__ import annotations


class Wrapper:
    def __init__(self, width: int):
        self.width = max(10, width)
        self.col = 0
        self.word = ""
        self.spaces = 0  # spaces after the last word, written only if the next word fits

    def feed(self, text: str) -> str:
        out = []
        for ch in text:
            if ch == "\n":
                out.append(self._flush() + "\n")
                self.col, self.spaces = 0, 0
            elif ch == " ":
                out.append(self._flush())
                self.spaces += 1
            else:
                self.word += ch
        return "".join(out)

    def _flush(self) -> str:
        word, self.word = self.word, ""
        if not word:
            return ""
        gap, self.spaces = " " * self.spaces, 0
        if self.col > 0 and self.col + len(gap) + len(word) > self.width:
            self.col = len(word)
            return "\n" + word
        self.col += len(gap) + len(word)
        return gap + word

    def close(self) -> str:
        return self._flush()
