"""Stop sequences over streamed text, also when a stop is split across tokens. Pure."""

from __future__ import annotations


class StopMatcher:
    """Feed text pieces; get back what is safe to emit and whether a stop was hit.

    Text that could be the start of a stop sequence is held back until it is either
    completed into a stop (then dropped, with everything after it) or ruled out.
    """

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.matched = ""  # the stop sequence that ended the text, once one has

    def feed(self, text: str) -> tuple[str, bool]:
        buf = self.pending + text
        hit = -1
        for s in self.stops:
            i = buf.find(s)
            if i != -1 and (hit == -1 or i < hit):
                hit, self.matched = i, s
        if hit != -1:
            self.pending = ""
            return buf[:hit], True
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(buf)), 0, -1):
                if buf.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        self.pending = buf[len(buf) - hold :] if hold else ""
        return buf[: len(buf) - hold], False

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out
