"""fetch_window_complete returns exactly a window's rows, against an in-memory model of the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from extract.voipms.windows import (
    IncompleteWindowError,
    Query,
    Window,
    fetch_window_complete,
)

Row = dict[str, Any]
BASE = date(2024, 3, 1)
DIDS = ["5551230001", "5551230002", "+15551230003", "5551230004"]


def _did_key(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[-10:]


@dataclass
class ApiModel:
    """A pure stand-in for getSMS: filters, newest first, cut at the limit."""

    rows: list[Row]
    window: Window
    queries: list[Query] = field(default_factory=list)

    def __call__(self, query: Query) -> list[Row]:
        assert self.window.start <= query.date_from <= query.date_to <= self.window.end
        assert (query.date_to - query.date_from).days <= 91
        self.queries.append(query)
        found = [
            row
            for row in self.rows
            if query.date_from <= date.fromisoformat(row["date"][:10]) <= query.date_to
            and (query.type is None or row["type"] == str(query.type))
            and (query.did is None or _did_key(row["did"]) == _did_key(query.did))
        ]
        found.sort(key=lambda row: (row["date"], int(row["id"])), reverse=True)
        return [dict(row) for row in found[: query.limit]]

    def truth(self) -> list[str]:
        return sorted(
            row["id"]
            for row in self.rows
            if self.window.start <= date.fromisoformat(row["date"][:10]) <= self.window.end
        )


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[Row], Window]:
    span = draw(st.integers(min_value=1, max_value=120))
    # Skewed distributions: all on one day, one type, one DID are all reachable.
    hot_day = draw(st.integers(0, span - 1))
    types = draw(st.sampled_from(["0", "1", "01"]))
    did_pool = draw(st.lists(st.sampled_from(DIDS), min_size=1, max_size=4, unique=True))
    count = draw(st.integers(0, 200))
    drawn = draw(
        st.lists(
            st.tuples(
                st.one_of(st.just(hot_day), st.integers(0, span - 1)),
                st.integers(0, 86_399),
                st.sampled_from(types),
                st.sampled_from(did_pool),
            ),
            min_size=count,
            max_size=count,
        )
    )
    midnight = datetime.combine(BASE, datetime.min.time())
    rows: list[Row] = [
        {
            "id": str(1000 + number),
            "date": (midnight + timedelta(days=day, seconds=second)).strftime("%Y-%m-%d %H:%M:%S"),
            "type": type_,
            "did": did,
            "contact": "5559990000",
            "message": f"m{number}",
        }
        for number, (day, second, type_, did) in enumerate(drawn)
    ]
    first = draw(st.integers(-3, span - 1))
    length = draw(st.integers(1, 92))
    window = Window(BASE + timedelta(days=first), BASE + timedelta(days=first + length - 1))
    return rows, window


@settings(max_examples=150, deadline=None)
@given(data=datasets(), limit=st.one_of(st.integers(1, 12), st.integers(1, 60)))
def test_the_result_is_exactly_the_windows_rows(data: tuple[list[Row], Window], limit: int) -> None:
    rows, window = data
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=limit, dids=DIDS, max_limit=10_000)

    assert sorted(row["id"] for row in result.rows) == model.truth()
    event(f"date splits: {min(result.date_splits, 3)}")
    event(f"type/DID splits: {min(result.type_splits + result.did_splits, 3)}")
    event(f"limit raises: {min(result.limit_raises, 3)}")
    assert result.calls == len(model.queries)
    assert all(q.limit <= 10_000 for q in model.queries)
    if len(model.truth()) < limit:
        assert result.calls == 1
        assert result.splits == 0


@settings(max_examples=80, deadline=None)
@given(data=datasets(), limit=st.integers(1, 10), max_factor=st.integers(1, 4))
def test_a_too_dense_day_raises_rather_than_losing_rows(
    data: tuple[list[Row], Window], limit: int, max_factor: int
) -> None:
    rows, window = data
    model = ApiModel(rows, window)
    max_limit = limit * max_factor
    try:
        result = fetch_window_complete(model, window, limit=limit, dids=DIDS, max_limit=max_limit)
    except IncompleteWindowError as error:
        query = error.query
        assert query.date_from == query.date_to
        assert query.limit == max_limit
        assert len(model(query)) == max_limit
    else:
        assert sorted(row["id"] for row in result.rows) == model.truth()


def _day_rows(count: int, *, did: str = DIDS[0], type_: str = "1", start: int = 0) -> list[Row]:
    noon = datetime(2024, 3, 1, 12, 0, 0)
    return [
        {
            "id": str(start + n),
            "date": (noon + timedelta(seconds=n)).strftime("%Y-%m-%d %H:%M:%S"),
            "type": type_,
            "did": did,
        }
        for n in range(count)
    ]


def test_a_full_day_is_split_by_type_then_did_then_limit() -> None:
    rows = (
        _day_rows(30, did=DIDS[0], type_="1")
        + _day_rows(30, did=DIDS[1], type_="1", start=100)
        + _day_rows(5, did=DIDS[1], type_="0", start=200)
    )
    window = Window(date(2024, 3, 1), date(2024, 3, 1))
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=10, dids=DIDS[:2])

    assert sorted(row["id"] for row in result.rows) == model.truth()
    assert result.date_splits == 0
    assert result.type_splits == 1
    assert result.did_splits == 1  # type 1 only: type 0 fitted
    assert result.limit_raises == 4  # 10 → 20 → 40 for each DID of type 1


def test_a_did_missing_from_the_list_stops_the_did_split() -> None:
    rows = _day_rows(8, did=DIDS[0]) + _day_rows(8, did="5550000999", start=100)
    window = Window(date(2024, 3, 1), date(2024, 3, 1))
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=4, dids=DIDS[:2])

    assert sorted(row["id"] for row in result.rows) == model.truth()
    assert result.did_splits == 0
    assert all(q.did is None for q in model.queries)


def test_a_did_missing_from_the_list_with_only_older_rows_is_found_after_the_split() -> None:
    """Its rows all past the first answer's cut: the split by DID happens, and the check call
    after it (one row more than the listed DIDs gave) finds it."""
    unlisted = "5550000999"  # ported away, or a sub-account's: getDIDsInfo does not list it
    morning = [
        {"id": str(500 + n), "date": f"2024-03-01 08:00:{n:02d}", "type": "1", "did": unlisted}
        for n in range(3)
    ]
    rows = _day_rows(8, did=DIDS[0]) + _day_rows(8, did=DIDS[1], start=100) + morning
    window = Window(date(2024, 3, 1), date(2024, 3, 1))
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=4, dids=DIDS[:2])

    assert sorted(row["id"] for row in result.rows) == model.truth()
    assert result.did_splits == 1
    assert [q.did for q in model.queries if q.did is not None and _did_key(q.did) == unlisted]


def test_an_unknown_type_stops_the_type_split() -> None:
    rows = _day_rows(6) + _day_rows(6, type_="7", start=100)
    window = Window(date(2024, 3, 1), date(2024, 3, 1))
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=5, dids=())
    assert sorted(row["id"] for row in result.rows) == model.truth()
    assert result.type_splits == 0


def test_a_92_day_window_is_halved_recursively() -> None:
    rows = [
        {"id": str(n), "date": f"{BASE + timedelta(days=n % 92)} 08:00:00", "type": "1", "did": "1"}
        for n in range(500)
    ]
    window = Window(BASE, BASE + timedelta(days=91))
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=50, dids=["1"])
    assert sorted(row["id"] for row in result.rows) == model.truth()
    assert result.date_splits >= 7
    assert result.limit_raises == 0


def test_limits_are_validated() -> None:
    window = Window(BASE, BASE)
    with pytest.raises(ValueError, match="limit"):
        fetch_window_complete(lambda q: [], window, limit=0)
    with pytest.raises(ValueError, match="limit"):
        fetch_window_complete(lambda q: [], window, limit=10, max_limit=5)


def test_a_windows_last_days_cost_one_call_not_two() -> None:
    # 91 rows a day: a call of 1,000 rows keeps 10 whole days. 92 days are 8 such calls and
    # 12 days left (about 1,092 rows): one call asking 2,000, not a full one and a small one.
    rows = [
        {
            "id": str(n),
            "date": f"{BASE + timedelta(days=n // 91)} {n % 91 // 6:02d}:{n % 60:02d}:00",
            "type": "1",
            "did": "1",
        }
        for n in range(92 * 91)
    ]
    window = Window(BASE, BASE + timedelta(days=91))
    model = ApiModel(rows, window)
    result = fetch_window_complete(model, window, limit=1000, dids=["1"])
    assert sorted(row["id"] for row in result.rows) == model.truth()
    assert result.calls == 9
    assert [q.limit for q in model.queries] == [1000] * 8 + [2000]


def test_the_repeated_autumn_hour_is_cut_by_day_not_halved() -> None:
    # Newest first by instant: on 2024-11-03 (New York) 01:00-01:59 comes twice, so the local
    # stamps go back up inside that day. Days still never grow, so a full answer is cut by day.
    day = date(2024, 11, 3)
    stamps = [f"{day} 03:00:00", f"{day} 01:10:00", f"{day} 01:50:00", f"{day} 01:20:00"]
    rows: list[Row] = []
    for offset in range(6):  # newest day first; each day holds the four stamps' times
        on = day - timedelta(days=offset)
        rows += [
            {"id": str(10 * offset + n), "date": stamp.replace(str(day), str(on)), "type": "1"}
            for n, stamp in enumerate(stamps)
        ]
    window = Window(day - timedelta(days=5), day)
    queries: list[Query] = []

    def newest_first(query: Query) -> list[Row]:
        queries.append(query)
        found = [
            row
            for row in rows
            if query.date_from <= date.fromisoformat(row["date"][:10]) <= query.date_to
        ]
        return [dict(row) for row in found[: query.limit]]

    result = fetch_window_complete(newest_first, window, limit=10, dids=[])
    assert sorted(row["id"] for row in result.rows) == sorted(row["id"] for row in rows)
    assert all(q.date_from == window.start for q in queries)  # cut by day, never halved
    assert result.calls == 3


@settings(max_examples=80, deadline=None)
@given(data=datasets(), limit=st.integers(1, 30))
def test_a_sink_gets_the_same_rows_in_the_same_order_a_part_at_a_time(
    data: tuple[list[Row], Window], limit: int
) -> None:
    rows, window = data
    whole = fetch_window_complete(ApiModel(rows, window), window, limit=limit, dids=DIDS)
    parts: list[list[Row]] = []
    sunk = fetch_window_complete(
        ApiModel(rows, window), window, limit=limit, dids=DIDS, sink=parts.append
    )
    assert [row for part in parts for row in part] == whole.rows
    assert sunk.rows == []
    assert sunk.row_count == whole.row_count == len(whole.rows)
    assert all(parts)  # no empty part is handed on
    assert sunk.calls == whole.calls
