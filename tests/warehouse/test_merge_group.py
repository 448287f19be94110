"""merge_windows: several windows in one transaction end as merging them one by one would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.warehouse.builders import (
    ACCOUNT,
    PROVIDER,
    SEEN,
    media_frame,
    media_item,
    message,
    messages_frame,
    rejected_frame,
    rejected_row,
)
from warehouse import MergeResult, WindowFrames, merge_windows, open_warehouse

MARCH = (date(2024, 3, 1), date(2024, 3, 31))
APRIL = (date(2024, 4, 1), date(2024, 4, 30))
MAY = (date(2024, 5, 1), date(2024, 5, 31))
LATER = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def march() -> WindowFrames:
    messages = messages_frame(
        message("1"),
        message("2", kind="mms", direction="outbound", status="sent", media_count=1),
        message("3", carrier_status="pending", status="pending", direction="outbound"),
    )
    return WindowFrames(
        *MARCH,
        messages=messages,
        media=media_frame(media_item("2", 1)),
        rejected=rejected_frame(rejected_row('{"id": "x"}'), rejected_row('{"id": "x"}')),
        sms_rows=3,
        mms_rows=1,
    )


def april() -> WindowFrames:
    # two new messages, a rejected row met in March and a new one
    messages = messages_frame(
        message("4", body="salut", body_raw="salut"),
        message("5", carrier_status="delivered", status="delivered", direction="outbound"),
    )
    return WindowFrames(
        *APRIL,
        messages=messages,
        media=media_frame(),
        rejected=rejected_frame(rejected_row('{"id": "x"}'), rejected_row('{"id": "y"}')),
        sms_rows=2,
        mms_rows=0,
    )


def may() -> WindowFrames:
    """An empty window: it is checkpointed all the same."""
    return WindowFrames(
        *MAY,
        messages=messages_frame(),
        media=media_frame(),
        rejected=rejected_frame(),
        sms_rows=0,
        mms_rows=0,
    )


def merged(
    con: duckdb.DuckDBPyConnection, windows: list[WindowFrames], seen_at: datetime = SEEN
) -> list[MergeResult]:
    return merge_windows(con, provider=PROVIDER, account=ACCOUNT, windows=windows, seen_at=seen_at)


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Every table a merge writes, in a stable order."""
    queries = {
        "messages": "SELECT * FROM messages ORDER BY kind, message_id",
        "media": "SELECT * FROM media ORDER BY message_id, position",
        "history": "SELECT * FROM carrier_status_history ORDER BY ALL",
        "rejected": "SELECT * FROM rejected_records ORDER BY record_hash",
        "checkpoints": "SELECT * FROM window_checkpoints ORDER BY window_start",
    }
    return {name: con.execute(sql).fetchall() for name, sql in queries.items()}


@pytest.fixture
def second(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_warehouse(tmp_path / "second" / "archive.duckdb")
    yield connection
    connection.close()


def test_a_group_ends_as_one_window_after_another(
    con: duckdb.DuckDBPyConnection, second: duckdb.DuckDBPyConnection
) -> None:
    one_by_one = [r for w in (march(), april(), may()) for r in merged(second, [w])]
    together = merged(con, [march(), april(), may()])

    assert contents(con) == contents(second)
    assert together == one_by_one
    assert together == [
        MergeResult(inserted=3, updated=0, status_changes=0, media_new=1, rejected_new=1),
        MergeResult(inserted=2, updated=0, status_changes=0, media_new=0, rejected_new=1),
        MergeResult(inserted=0, updated=0, status_changes=0, media_new=0, rejected_new=0),
    ]


def test_a_message_in_two_windows_of_a_group_takes_the_later_reading(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # (windows do not overlap, so the API does not do this; were it to, nothing is lost)
    delivered = message("3", carrier_status="delivered", status="delivered", direction="outbound")
    again = WindowFrames(
        *APRIL,
        messages=messages_frame(delivered),
        media=media_frame(),
        rejected=rejected_frame(),
        sms_rows=1,
        mms_rows=0,
    )

    results = merged(con, [march(), again])

    assert [r.inserted for r in results] == [2, 1]
    assert con.execute("SELECT carrier_status FROM messages WHERE message_id = '3'").fetchall() == [
        ("delivered",)
    ]
    assert con.execute(
        "SELECT carrier_status FROM carrier_status_history WHERE message_id = '3'"
    ).fetchall() == [("delivered",)]


def test_a_group_rerun_updates_and_counts_per_window(con: duckdb.DuckDBPyConnection) -> None:
    merged(con, [march(), april()])
    changed = april()
    changed = WindowFrames(
        *APRIL,
        messages=changed.messages.with_columns(body=pl.lit("edited")),
        media=changed.media,
        rejected=changed.rejected,
        sms_rows=2,
        mms_rows=0,
    )

    results = merged(con, [march(), changed], seen_at=LATER)

    assert results == [MergeResult(0, 0, 0, 0, 0), MergeResult(0, 2, 0, 0, 0)]
    rows = con.execute(
        "SELECT message_id, body, first_seen_at = $seen, last_seen_at = $later "
        "FROM messages ORDER BY kind, message_id",
        {"seen": SEEN, "later": LATER},
    ).fetchall()
    assert rows == [
        ("2", "hello", True, True),
        ("1", "hello", True, True),
        ("3", "hello", True, True),
        ("4", "edited", True, True),
        ("5", "edited", True, True),
    ]
    checkpoints = con.execute(
        "SELECT window_start, merges, messages_inserted, messages_updated, rejected "
        "FROM window_checkpoints ORDER BY window_start"
    ).fetchall()
    # rejected: the distinct rejected rows of the window's latest merge
    assert checkpoints == [(MARCH[0], 2, 3, 0, 1), (APRIL[0], 2, 2, 2, 2)]


def test_a_failing_group_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    bad = WindowFrames(
        *APRIL,
        messages=messages_frame(message("9", direction="sideways")),
        media=media_frame(),
        rejected=rejected_frame(),
        sms_rows=1,
        mms_rows=0,
    )
    with pytest.raises(duckdb.ConstraintException):
        merged(con, [march(), bad])

    assert all(rows == [] for rows in contents(con).values())


def test_no_windows_merge_nothing(con: duckdb.DuckDBPyConnection) -> None:
    assert merged(con, []) == []
    assert all(rows == [] for rows in contents(con).values())
