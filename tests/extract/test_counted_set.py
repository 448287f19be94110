"""CountedSet: a member stays until discarded as often as it was added."""

from __future__ import annotations

from extract.counted_set import CountedSet


def test_a_member_added_twice_stays_until_discarded_twice() -> None:
    held = CountedSet()
    held.add("a")
    held.add("a")
    held.add("b")
    held.discard("a")
    assert sorted(held.members()) == ["a", "b"]
    held.discard("a")
    held.discard("never added")
    assert held.members() == ["b"]
