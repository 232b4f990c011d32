"""engine/prefix.pick: which free slot a prompt takes, and whose prefix it copies."""

from __future__ import annotations

from server.engine.prefix import pick, relocation, runs
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


def test_a_slot_far_from_the_busy_ones_swaps_with_the_lru_slot_next_to_them():
    # Slots 3-4 decode; the prompt's conversation is in slot 7; 2 and 5 keep one run.
    free = [Slot(0), Slot(2, used=4), Slot(5, used=2), Slot(7, used=1)]
    assert relocation(free, free[3], frozenset({3, 4}), filling=False) is free[2]


def test_a_slot_next_to_the_busy_ones_stays():
    free = [Slot(2, used=3), Slot(5, used=1)]
    assert relocation(free, free[0], frozenset({0, 1}), filling=False) is None


def test_a_hole_between_busy_slots_is_filled_first():
    free = [Slot(2, used=5), Slot(4, used=1), Slot(5)]
    assert relocation(free, free[1], frozenset({0, 1, 3}), filling=False) is free[0]


def test_nothing_busy_or_every_free_slot_taken_moves_nothing():
    free = [Slot(0), Slot(3), Slot(6)]
    assert relocation(free, free[1], frozenset(), filling=False) is None
    assert relocation(free, free[2], frozenset({1}), filling=True) is None
