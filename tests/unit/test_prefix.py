"""engine/prefix.pick: which free slot a prompt takes, and whose prefix it copies."""

from __future__ import annotations

from server.engine.prefix import pick, runs
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


def test_runs_count_the_ubatches_of_a_step():
    assert runs(set()) == 0
    assert runs({0, 1, 2, 3}) == 1
    assert runs({0, 2, 4, 6}) == 4
    assert runs({1, 2, 5, 6, 7, 9}) == 3


def test_a_prompt_cached_far_from_the_busy_slots_is_copied_next_to_them():
    # Slots 0-1 are decoding; the prompt's conversation sits in slot 5.
    conversation = slot(5, [*HEADER, 10, 11], [12], used=1)
    free = [Slot(2, used=3), Slot(3, used=2), Slot(4), conversation]
    assert pick(free, [*HEADER, 10, 11, 12, 13], frozenset({0, 1})) == (free[0], conversation)


def test_a_conversation_next_to_the_busy_slots_keeps_its_slot():
    conversation = slot(2, [*HEADER, 10, 11], [12], used=1)
    free = [conversation, Slot(3), Slot(5)]
    assert pick(free, [*HEADER, 10, 11, 12, 13], frozenset({0, 1})) == (conversation, None)


def test_a_hole_between_busy_slots_is_filled_first():
    free = [Slot(2, used=5), Slot(4, used=1), Slot(5)]
    assert pick(free, [7, 8], frozenset({0, 1, 3})) == (free[0], None)


def test_the_least_recently_used_of_the_slots_that_keep_one_run():
    # Busy 3-4: slots 2 and 5 both keep one run; 5 was used longer ago.
    free = [Slot(0, used=1), Slot(2, used=4), Slot(5, used=2), Slot(7, used=0)]
    assert pick(free, [7, 8], frozenset({3, 4})) == (free[2], None)
