"""Where a repeated autumn hour's rows, in id order, pass from its first pass to its second."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Passes:
    """Each row's pass, in the order the rows were given (id order)."""

    second: list[bool]
    """The row is in the second pass: it takes its later reading."""


class _Counts:
    """A multiset of readings (from a known set of values) that counts and sums those below
    or above a value (a Fenwick tree over the values' ranks)."""

    def __init__(self, values: Sequence[int]) -> None:
        self._values = values
        self._count = [0] * (len(values) + 1)
        self._sum = [0] * (len(values) + 1)
        self.size = 0
        self.total = 0

    def add(self, value: int, times: int) -> None:
        """Add `value` (`times` 1) or take it out (-1)."""
        self.size += times
        self.total += times * value
        index = bisect_left(self._values, value) + 1
        while index < len(self._count):
            self._count[index] += times
            self._sum[index] += times * value
            index += index & -index

    def _up_to(self, rank: int) -> tuple[int, int]:
        count = total = 0
        while rank > 0:
            count += self._count[rank]
            total += self._sum[rank]
            rank -= rank & -rank
        return count, total

    def below(self, value: int) -> tuple[int, int]:
        """How many held readings are less than `value`, and how far below it they are in all."""
        count, total = self._up_to(bisect_left(self._values, value))
        return count, count * value - total

    def above(self, value: int) -> tuple[int, int]:
        """How many held readings are greater than `value`, and how far above it in all."""
        count, total = self._up_to(bisect_right(self._values, value))
        count, total = self.size - count, self.total - total
        return count, total - count * value


def split_passes(
    first: Sequence[int], second: Sequence[int], told: Sequence[bool | None]
) -> Passes:
    """Each row's pass, for rows of one kind and one repeated hour given in id order.

    `first` and `second` are each row's two readings (any integer clock, as epoch
    microseconds), `told` its pass where something else tells it (True: the second) or None.

    Ids grow with time, so the rows not told are split at one point of the id order: those
    before it in the first pass, the rest in the second. The split taken is the one that
    leaves the fewest pairs of rows out of order in time (then the smallest time between
    them in all): one SMS delivered late, its id larger than a later clock time's, puts
    itself out of order, not every row after it. Of equally good splits the latest is taken,
    so a row no split tells apart takes its earlier reading.
    """
    count = len(first)
    at_first = [second[i] if told[i] else first[i] for i in range(count)]
    at_second = [first[i] if told[i] is False else second[i] for i in range(count)]
    values = sorted({*at_first, *at_second})
    after = _Counts(values)  # the rows after the split: at first, every row
    out_of_order, apart = 0, 0
    for value in at_second:  # the split before the first row: every row in its second pass
        pairs, far = after.above(value)  # the rows before this one, later in time
        out_of_order, apart = out_of_order + pairs, apart + far
        after.add(value, 1)
    before = _Counts(values)
    costs = [(out_of_order, apart)]
    for row in range(count):  # the split moved past `row`: only its reading changes
        old, new = at_second[row], at_first[row]
        after.add(old, -1)
        (was_before, far_before), (now_before, near_before) = before.above(old), before.above(new)
        (was_after, far_after), (now_after, near_after) = after.below(old), after.below(new)
        out_of_order += now_before + now_after - was_before - was_after
        apart += near_before + near_after - far_before - far_after
        before.add(new, 1)
        costs.append((out_of_order, apart))
    latest = count - costs[::-1].index(min(costs))
    return Passes(
        second=[bool(told[i]) if told[i] is not None else i >= latest for i in range(count)]
    )
