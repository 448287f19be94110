"""The split of a repeated hour's rows into its two passes: fewest out of order, as brute force."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transform.repeated_hour import split_passes

HOUR = 60


def _costs(first: list[int], second: list[int], told: list[bool | None]) -> list[tuple[int, int]]:
    """Every split's (pairs out of order, their time apart in all), counted pair by pair."""
    costs = []
    for split in range(len(first) + 1):
        at = [
            (second[i] if told[i] else first[i])
            if told[i] is not None
            else (first[i] if i < split else second[i])
            for i in range(len(first))
        ]
        pairs = [(a, b) for i, a in enumerate(at) for b in at[i + 1 :] if a > b]
        costs.append((len(pairs), sum(a - b for a, b in pairs)))
    return costs


def _passes(clock: list[int], told: list[bool | None] | None = None) -> list[bool]:
    """Each row's second pass? for minutes past 01:00 on the clock, in id order."""
    told = told or [None] * len(clock)
    return split_passes(clock, [minute + HOUR for minute in clock], told).second


def test_a_step_back_starts_the_second_pass() -> None:
    assert _passes([10, 20, 30, 5, 15]) == [False, False, False, True, True]


def test_one_late_sms_stays_an_outlier_among_first_pass_rows() -> None:
    # 01:05 arrives after 01:20 (a larger id), then the first pass goes on to 01:40 before
    # the clock falls back: only the fall back starts the second pass
    assert _passes([10, 20, 5, 30, 40, 2, 15]) == [False] * 5 + [True, True]


def test_a_late_sms_in_the_second_pass_does_not_end_it() -> None:
    assert _passes([30, 50, 10, 20, 5, 40]) == [False, False, True, True, True, True]


def test_a_told_row_keeps_its_pass_and_places_the_rows_around_it() -> None:
    # the row told first pass is later in ids than 01:50: 01:50 is in the first pass too
    passes = split_passes([50, 20], [110, 80], [None, False])
    assert passes.second == [False, False]


def test_rows_no_split_tells_apart_take_the_first_pass_as_a_guess() -> None:
    passes = split_passes([10, 40, 40], [70, 100, 100], [None, None, None])
    assert passes.second == [False, False, False]
    assert split_passes([], [], []).second == []


@given(
    st.lists(
        st.tuples(st.integers(0, 59), st.sampled_from([None, None, None, True, False])),
        max_size=12,
    )
)
def test_the_split_taken_is_the_latest_of_the_best(rows: list[tuple[int, bool | None]]) -> None:
    clock = [minute for minute, _ in rows]
    told = [said for _, said in rows]
    later = [minute + HOUR for minute in clock]
    passes = split_passes(clock, later, told)
    costs = _costs(clock, later, told)
    best = min(costs)
    split = len(costs) - 1 - costs[::-1].index(best)
    assert passes.second == [
        bool(said) if said is not None else i >= split for i, said in enumerate(told)
    ]
