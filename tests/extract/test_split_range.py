"""split_range cuts a day range into ≤ max_days windows that cover it exactly, in order."""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extract.voipms.windows import Window, split_range, uncovered_windows

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=300)
@given(start=DAYS, length=st.integers(min_value=1, max_value=2000), max_days=st.integers(1, 200))
def test_windows_cover_the_range_exactly(start: date, length: int, max_days: int) -> None:
    end = start + timedelta(days=length - 1)
    windows = split_range(start, end, max_days)

    assert windows[0].start == start
    assert windows[-1].end == end
    for earlier, later in itertools.pairwise(windows):
        assert later.start == earlier.end + timedelta(days=1)  # no gap, no overlap
    assert all(1 <= w.days <= max_days for w in windows)
    assert all(w.days == max_days for w in windows[:-1])
    assert sum(w.days for w in windows) == length
    assert len(windows) == math.ceil(length / max_days)


def test_the_default_is_92_inclusive_days() -> None:
    windows = split_range(date(2024, 1, 1), date(2024, 12, 31))
    assert [w.days for w in windows] == [92, 92, 92, 90]
    assert windows[0] == Window(date(2024, 1, 1), date(2024, 4, 1))
    assert (windows[0].end - windows[0].start).days == 91


def test_a_single_day_is_one_window() -> None:
    assert split_range(date(2024, 2, 29), date(2024, 2, 29)) == [
        Window(date(2024, 2, 29), date(2024, 2, 29))
    ]


def test_a_reversed_range_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"cannot start \(2024-02-02\) after it ends"):
        split_range(date(2024, 2, 2), date(2024, 2, 1))


def test_max_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_days"):
        split_range(date(2024, 1, 1), date(2024, 1, 5), 0)


def test_a_window_cannot_be_reversed() -> None:
    with pytest.raises(ValueError, match="cannot start"):
        Window(date(2024, 1, 2), date(2024, 1, 1))


@given(start=DAYS, length=st.integers(min_value=2, max_value=400))
def test_halves_are_consecutive_and_cover(start: date, length: int) -> None:
    window = Window(start, start + timedelta(days=length - 1))
    earlier, later = window.halves()
    assert earlier.start == window.start
    assert later.end == window.end
    assert later.start == earlier.end + timedelta(days=1)
    assert earlier.days + later.days == window.days
    assert abs(earlier.days - later.days) <= 1


COVERED = st.lists(
    st.tuples(DAYS, st.integers(min_value=0, max_value=400)).map(
        lambda pair: (pair[0], pair[0] + timedelta(days=pair[1]))
    ),
    max_size=6,
)


@settings(max_examples=300)
@given(start=DAYS, length=st.integers(min_value=1, max_value=2000), covered=COVERED)
def test_uncovered_windows_ask_every_day_no_covered_range_holds_and_no_other(
    start: date, length: int, covered: list[tuple[date, date]]
) -> None:
    end = start + timedelta(days=length - 1)
    windows = uncovered_windows(start, end, covered)

    asked = [w.start + timedelta(days=n) for w in windows for n in range(w.days)]
    expected = [
        day
        for day in (start + timedelta(days=n) for n in range(length))
        if not any(first <= day <= last for first, last in covered)
    ]
    assert asked == expected  # in order, each once
    assert all(1 <= w.days <= 92 for w in windows)


def test_a_backfill_from_another_start_asks_only_the_days_left() -> None:
    # 2019..2024 archived in 92-day windows from 2019-01-01; asked again from 2019-01-03
    archived = [(w.start, w.end) for w in split_range(date(2019, 1, 1), date(2024, 12, 31))]
    assert uncovered_windows(date(2019, 1, 3), date(2024, 12, 31), archived) == []
    assert uncovered_windows(date(2018, 12, 1), date(2025, 1, 5), archived) == [
        Window(date(2018, 12, 1), date(2018, 12, 31)),
        Window(date(2025, 1, 1), date(2025, 1, 5)),
    ]
