"""engine/prefix.pick: which free slot a prompt takes, and whose prefix it copies."""

from __future__ import annotations

from server.engine.prefix import pick
from server.engine.slots import Slot, common_prefix

HEADER = [1, 2, 3]


def slot(seq_id: int, prompt: list[int], answer: list[int], used: int) -> Slot:
    return Slot(seq_id, cached=prompt + answer, prompt_len=len(prompt), used=used)


def test_all_empty_takes_the_least_recently_used():
    slots = [Slot(0, used=2), Slot(1, used=1), Slot(2, used=3)]
    assert pick(slots, [7, 8]) == (slots[1], None)


def test_a_conversation_going_on_keeps_its_slot():
    a = slot(0, [*HEADER, 10, 11], [12, 13], used=1)
    empty = Slot(1)
    assert pick([a, empty], [*HEADER, 10, 11, 12, 13, 14]) == (a, None)


def test_the_same_prompt_again_loses_only_the_last_answer():
    a = slot(0, [*HEADER, 10, 11], [12, 13], used=1)
    assert pick([a, Slot(1)], [*HEADER, 10, 11]) == (a, None)


def test_another_prompt_sharing_a_header_forks_into_the_lru_slot():
    a = slot(0, [*HEADER, 10, 11], [12], used=2)
    empty = Slot(1)
    assert pick([a, empty], [*HEADER, 20, 21]) == (empty, a)


def test_no_copy_when_the_lru_slot_holds_as_much_of_the_prefix():
    a = slot(0, [*HEADER, 10], [12], used=2)
    b = slot(1, [*HEADER, 30], [31], used=1)
    assert pick([a, b], [*HEADER, 20]) == (b, None)


def test_one_free_slot_is_taken_whatever_it_holds():
    a = slot(0, [*HEADER, 10, 11], [12], used=1)
    assert pick([a], [*HEADER, 20]) == (a, None)


def test_image_positions_are_never_a_shared_prefix():
    assert common_prefix([-1, -1, 5], [-1, -1, 5]) == 0
    assert common_prefix([4, -1], [4, -1]) == 1
