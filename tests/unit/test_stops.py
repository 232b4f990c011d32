"""Stop sequences over streamed text."""

from __future__ import annotations

from server.engine.stops import StopMatcher


def run(stops, pieces):
    m = StopMatcher(stops)
    out = []
    for p in pieces:
        text, stopped = m.feed(p)
        out.append(text)
        if stopped:
            return "".join(out), True
    return "".join(out) + m.flush(), False


def test_stop_inside_one_piece_is_trimmed():
    assert run(["END"], ["hello END world"]) == ("hello ", True)


def test_stop_split_across_pieces():
    assert run(["<|im_end|>"], ["Hi", " there<|", "im_", "end|>", "more"]) == ("Hi there", True)


def test_false_prefix_is_released():
    m = StopMatcher(["</s>"])
    assert m.feed("a<") == ("a", False)
    assert m.feed("b") == ("<b", False)


def test_no_stop_flushes_everything():
    assert run(["STOP"], ["ab", "ST", "OR"]) == ("abSTOR", False)
    assert run([], ["x", "y"]) == ("xy", False)


def test_earliest_stop_wins():
    assert run(["b", "a"], ["xxab"]) == ("xx", True)


def test_the_stop_that_matched_is_named():
    m = StopMatcher(["END", "\n\n"])
    assert m.feed("a\n") == ("a", False) and m.matched == ""
    assert m.feed("\nEND") == ("", True) and m.matched == "\n\n"  # the earliest one wins
