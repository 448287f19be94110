"""merge_window: inserts, reruns, status history, batch dedupe, media, rejects, rollback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from tests.warehouse.builders import (
    ACCOUNT,
    MESSAGES_SCHEMA,
    PROVIDER,
    SEEN,
    WINDOW,
    media_frame,
    media_item,
    merge,
    message,
    messages_frame,
    rejected_frame,
    rejected_row,
)
from warehouse import (
    MergeResult,
    WindowFrames,
    drop_resolved_rejections,
    merge_window,
    merge_windows,
)


def table(con: duckdb.DuckDBPyConnection, name: str, order: str) -> pl.DataFrame:
    # table names are test constants, not values
    frame: pl.DataFrame = con.sql(f"SELECT * FROM {name} ORDER BY {order}").pl()  # noqa: S608
    return frame


def count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchall()  # noqa: S608
    return int(rows[0][0])


def window_batch() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    # an SMS and an MMS sharing id 7 (separate counters), the MMS with two attachments
    messages = messages_frame(
        message("7"),
        message(
            "7",
            kind="mms",
            direction="outbound",
            carrier_status="delivered",
            status="delivered",
            media_count=2,
        ),
        message("8", body="bonjour", body_raw="bonjour"),
    )
    media = media_frame(media_item("7", 1), media_item("7", 2))
    rejected = rejected_frame(rejected_row('{"id": "9", "date": "never"}'))
    return messages, media, rejected


def test_first_merge_inserts_everything(con: duckdb.DuckDBPyConnection) -> None:
    result = merge(con, *window_batch())

    assert result == MergeResult(
        inserted=3, updated=0, status_changes=0, media_new=2, rejected_new=1
    )
    messages = table(con, "messages", "kind, message_id")
    assert messages.select("kind", "message_id").rows() == [
        ("mms", "7"),
        ("sms", "7"),
        ("sms", "8"),
    ]
    assert messages["first_seen_at"].to_list() == [SEEN] * 3
    assert messages["last_seen_at"].to_list() == [SEEN] * 3
    assert messages.schema["sent_at"] == pl.Datetime("us", "UTC")
    assert messages.filter(pl.col("kind") == "mms")["status"].item() == "delivered"

    history = table(con, "carrier_status_history", "kind, message_id")
    assert history.select("kind", "message_id", "carrier_status", "seen_at").rows() == [
        ("mms", "7", "delivered", SEEN),
        ("sms", "7", "", SEEN),
        ("sms", "8", "", SEEN),
    ]
    media = table(con, "media", "position")
    assert media.select("message_id", "position", "state", "attempts").rows() == [
        ("7", 1, "pending", 0),
        ("7", 2, "pending", 0),
    ]
    assert count(con, "rejected_records") == 1

    checkpoint = table(con, "window_checkpoints", "window_start").row(0, named=True)
    assert (checkpoint["window_start"], checkpoint["window_end"]) == WINDOW
    assert checkpoint["completed_at"] == SEEN
    assert (checkpoint["sms_rows"], checkpoint["mms_rows"]) == (2, 1)
    assert (checkpoint["messages_inserted"], checkpoint["messages_updated"]) == (3, 0)
    assert (checkpoint["rejected"], checkpoint["merges"]) == (1, 1)


def test_rerun_changes_nothing_but_last_seen_at(con: duckdb.DuckDBPyConnection) -> None:
    merge(con, *window_batch())
    before = {
        name: table(con, name, order)
        for name, order in [
            ("messages", "kind, message_id"),
            ("carrier_status_history", "kind, message_id"),
            ("media", "message_id, position"),
            ("rejected_records", "record_hash"),
            ("window_checkpoints", "window_start"),
        ]
    }
    later = SEEN + timedelta(days=1)

    result = merge(con, *window_batch(), seen_at=later)

    assert result == MergeResult(0, 0, 0, 0, 0)
    after_messages = table(con, "messages", "kind, message_id")
    assert after_messages["last_seen_at"].to_list() == [later] * 3
    assert after_messages.drop("last_seen_at").equals(before["messages"].drop("last_seen_at"))
    for name, order in [
        ("carrier_status_history", "kind, message_id"),
        ("media", "message_id, position"),
        ("rejected_records", "record_hash"),
    ]:
        assert table(con, name, order).equals(before[name]), name
    checkpoint = table(con, "window_checkpoints", "window_start")
    # the counts add up over merges, so a rerun that adds nothing leaves them as they were
    assert checkpoint.drop("completed_at", "merges").equals(
        before["window_checkpoints"].drop("completed_at", "merges")
    )
    assert checkpoint["merges"].item() == 2
    assert checkpoint["completed_at"].item() == later


def test_rerun_with_an_older_seen_at_never_moves_last_seen_back(
    con: duckdb.DuckDBPyConnection,
) -> None:
    merge(con, messages_frame(message("1")))
    merge(con, messages_frame(message("1")), seen_at=SEEN - timedelta(days=3))
    row = table(con, "messages", "message_id").row(0, named=True)
    assert row["first_seen_at"] == row["last_seen_at"] == SEEN


def test_status_history_has_first_sight_and_each_change_only(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def outbound(carrier_status: str, status: str) -> pl.DataFrame:
        return messages_frame(
            message("5", direction="outbound", carrier_status=carrier_status, status=status)
        )

    steps = [
        ("pending", "pending", 0),
        ("delivered", "delivered", 1),
        ("delivered", "delivered", 0),  # unchanged: no history row
        ("undelivered", "failed", 1),
    ]
    results = []
    for day, (carrier_status, status, _) in enumerate(steps):
        results.append(merge(con, outbound(carrier_status, status), seen_at=SEEN + timedelta(day)))

    assert [r.status_changes for r in results] == [step[2] for step in steps]
    assert [r.updated for r in results] == [0, 1, 0, 1]
    history = table(con, "carrier_status_history", "seen_at")
    assert history.select("carrier_status", "status", "seen_at").rows() == [
        ("pending", "pending", SEEN),
        ("delivered", "delivered", SEEN + timedelta(1)),
        ("undelivered", "failed", SEEN + timedelta(3)),
    ]
    row = table(con, "messages", "message_id").row(0, named=True)
    assert (row["carrier_status"], row["status"]) == ("undelivered", "failed")
    assert row["first_seen_at"] == SEEN
    assert row["last_seen_at"] == SEEN + timedelta(3)


def test_a_replayed_transform_fix_corrects_derived_columns(
    con: duckdb.DuckDBPyConnection,
) -> None:
    merge(con, messages_frame(message("1", body="caf?", encoding="gsm7")))

    result = merge(
        con,
        messages_frame(message("1", body="café", encoding="ucs2")),
        seen_at=SEEN + timedelta(hours=1),
    )

    assert result == MergeResult(
        inserted=0, updated=1, status_changes=0, media_new=0, rejected_new=0
    )
    row = table(con, "messages", "message_id").row(0, named=True)
    assert (row["body"], row["encoding"]) == ("café", "ucs2")
    assert row["first_seen_at"] == SEEN
    assert count(con, "carrier_status_history") == 1  # carrier status did not change
    assert table(con, "window_checkpoints", "window_start")["messages_updated"].item() == 1


def test_a_guessed_repeated_hour_instant_does_not_replace_the_other_one_archived(
    con: duckdb.DuckDBPyConnection,
) -> None:
    local = "2024-11-03 01:40:00"  # New York lives it twice: 05:40Z, then 06:40Z
    first, second = (datetime(2024, 11, 3, h, 40, tzinfo=UTC) for h in (5, 6))
    merge(con, messages_frame(message("1", sent_at=second, sent_at_local=local)))

    # a later answer without the evidence guesses the first; the archived second stands
    guess = message("1", sent_at=first, sent_at_local=local)
    guessed = pl.DataFrame([guess], schema=MESSAGES_SCHEMA, orient="row").with_columns(
        sent_at_other_reading=pl.lit(second)
    )
    result = merge(con, guessed, seen_at=SEEN + timedelta(hours=1))
    assert result.updated == 0
    assert table(con, "messages", "message_id")["sent_at"].to_list() == [second]

    # an archived first reading is set to the second one an answer with evidence gives
    merge(con, messages_frame(message("2", sent_at=first, sent_at_local=local)))
    result = merge(
        con,
        messages_frame(message("2", sent_at=second, sent_at_local=local)),
        seen_at=SEEN + timedelta(hours=2),
    )
    assert result.updated == 1
    assert table(con, "messages", "message_id")["sent_at"].to_list() == [second, second]


def test_duplicates_within_a_batch_are_merged_once(con: duckdb.DuckDBPyConnection) -> None:
    messages = messages_frame(
        message("1", body="first"),
        message("2"),
        message("1", body="second"),  # same key: the later row wins
    )
    media = media_frame(
        media_item("3", 1),
        media_item("3", 1, url="https://voip.ms/media/3/1-b.jpg"),
    )
    record = '{"id": "x"}'
    rejected = rejected_frame(rejected_row(record), rejected_row(record))

    result = merge(con, messages, media, rejected)

    assert result == MergeResult(
        inserted=2, updated=0, status_changes=0, media_new=1, rejected_new=1
    )
    assert table(con, "messages", "message_id")["body"].to_list() == ["second", "hello"]
    assert count(con, "carrier_status_history") == 2
    assert table(con, "media", "position")["url"].to_list() == ["https://voip.ms/media/3/1-b.jpg"]
    assert count(con, "rejected_records") == 1
    assert table(con, "window_checkpoints", "window_start")["rejected"].item() == 1


def test_known_media_rows_are_left_alone_unless_unstored_with_a_new_url(
    con: duckdb.DuckDBPyConnection,
) -> None:
    merge(con, media=media_frame(media_item("1", 1), media_item("1", 2), media_item("1", 3)))
    con.execute(
        "UPDATE media SET state = 'stored', sha256 = 'abc', size_bytes = 10 WHERE position = 1"
    )
    con.execute("UPDATE media SET state = 'failed', attempts = 3 WHERE position IN (2, 3)")

    result = merge(
        con,
        media=media_frame(
            media_item("1", 1, url="https://voip.ms/new/1.jpg"),  # stored: untouched
            media_item("1", 2, url="https://voip.ms/new/2.jpg"),  # failed, new URL: retried
            media_item("1", 3),  # failed, same URL: untouched
            media_item("1", 4),  # new
        ),
    )

    assert result.media_new == 1
    rows = table(con, "media", "position").select("position", "url", "state", "attempts").rows()
    assert rows == [
        (1, "https://voip.ms/media/1/1.jpg", "stored", 0),
        (2, "https://voip.ms/new/2.jpg", "pending", 0),
        (3, "https://voip.ms/media/1/3.jpg", "failed", 3),
        (4, "https://voip.ms/media/1/4.jpg", "pending", 0),
    ]


def test_rejected_rows_are_kept_once_across_windows(con: duckdb.DuckDBPyConnection) -> None:
    first = rejected_frame(rejected_row('{"id": "1"}'), rejected_row('{"id": "2"}'))
    assert merge(con, rejected=first).rejected_new == 2
    assert merge(con, rejected=first).rejected_new == 0

    other_window = (date(2024, 4, 1), date(2024, 4, 30))
    again = rejected_frame(
        rejected_row('{"id": "1"}'),  # seen before, in the other window
        rejected_row('{"id": "1"}', reason="unknown type"),  # same record, new reason
        rejected_row('{"id": "1"}', source="getMMS"),  # same record and reason, other source
    )
    assert merge(con, rejected=again, window=other_window).rejected_new == 2

    rows = table(con, "rejected_records", "record, source, reason")
    assert rows.height == 4
    first_sighting = rows.filter(
        (pl.col("record") == '{"id": "1"}')
        & (pl.col("source") == "getSMS")
        & (pl.col("reason") == "unparseable date")
    )
    assert first_sighting["window_start"].item() == WINDOW[0]
    assert rows["record_hash"].n_unique() == 4


@pytest.mark.parametrize(
    ("messages", "media"),
    [
        pytest.param(
            messages_frame(message("1"), message("2", kind="fax")), media_frame(), id="bad-kind"
        ),
        pytest.param(
            messages_frame(message("1"), message("2", direction="sideways")),
            media_frame(),
            id="bad-direction",
        ),
        # messages are written before media, so this fails half-way through the merge
        pytest.param(
            messages_frame(message("1"), message("2", kind="mms")),
            media_frame(media_item("2", 1), media_item("2", 0)),
            id="bad-media-position",
        ),
    ],
)
def test_a_failing_merge_writes_nothing(
    con: duckdb.DuckDBPyConnection, messages: pl.DataFrame, media: pl.DataFrame
) -> None:
    rejected = rejected_frame(rejected_row("{}"))
    with pytest.raises(duckdb.ConstraintException):
        merge(con, messages, media, rejected)

    for name in (
        "messages",
        "media",
        "carrier_status_history",
        "rejected_records",
        "window_checkpoints",
    ):
        assert count(con, name) == 0, name
    # the connection is usable again and the same window merges once fixed
    assert merge(con, messages_frame(message("1"))).inserted == 1


def test_a_failing_rerun_keeps_the_previous_state(con: duckdb.DuckDBPyConnection) -> None:
    merge(
        con,
        messages_frame(message("1", direction="outbound", carrier_status="sent", status="sent")),
    )
    before = table(con, "messages", "message_id")

    with pytest.raises(duckdb.ConstraintException):
        merge(
            con,
            messages_frame(
                message("1", direction="outbound", carrier_status="delivered", status="delivered")
            ),
            media_frame(media_item("1", -1)),
            seen_at=SEEN + timedelta(days=1),
        )

    assert table(con, "messages", "message_id").equals(before)
    assert count(con, "carrier_status_history") == 1
    assert table(con, "window_checkpoints", "window_start")["merges"].item() == 1


def test_an_empty_window_is_still_checkpointed(con: duckdb.DuckDBPyConnection) -> None:
    result = merge_window(
        con,
        provider=PROVIDER,
        account=ACCOUNT,
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        messages=pl.DataFrame(),
        media=pl.DataFrame(),
        rejected=pl.DataFrame(),
        seen_at=SEEN,
        sms_rows=0,
        mms_rows=0,
    )
    assert result == MergeResult(0, 0, 0, 0, 0)
    assert count(con, "window_checkpoints") == 1


def test_rows_of_another_account_are_refused_before_any_write(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(ValueError, match="another provider/account"):
        merge(con, messages_frame(message("1"), message("2", account="someone-else")))
    assert count(con, "messages") == 0
    assert count(con, "window_checkpoints") == 0


def test_a_missing_contract_column_is_named(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="messages frame lacks column\\(s\\) body_raw"):
        merge(con, messages_frame(message("1")).drop("body_raw"))


def test_seen_at_must_be_timezone_aware(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        merge(con, messages_frame(message("1")), seen_at=SEEN.replace(tzinfo=None))


def test_a_replay_lists_only_what_it_still_rejects(con: duckdb.DuckDBPyConnection) -> None:
    other_window = (date(2024, 4, 1), date(2024, 4, 30))
    merge(con, rejected=rejected_frame(rejected_row('{"id": "1"}'), rejected_row('{"id": "2"}')))
    merge(con, rejected=rejected_frame(rejected_row('{"id": "3"}')), window=other_window)

    # a newer transform reads row 2 and gives row 1 another reason
    replay(con, rejected=rejected_frame(rejected_row('{"id": "1"}', reason="missing contact")))
    listed = table(con, "rejected_records", "window_start, record").select("record")
    assert listed["record"].to_list() == [
        '{"id": "1"}',
        '{"id": "1"}',
        '{"id": "2"}',
        '{"id": "3"}',
    ]
    drop_resolved_rejections(con, [(PROVIDER, ACCOUNT, *WINDOW)])  # the replay's end

    rows = table(con, "rejected_records", "window_start, record").select("record", "reason")
    assert rows.rows() == [('{"id": "1"}', "missing contact"), ('{"id": "3"}', "unparseable date")]


def replay(
    con: duckdb.DuckDBPyConnection,
    messages: pl.DataFrame | None = None,
    rejected: pl.DataFrame | None = None,
    seen_at: datetime = SEEN,
) -> None:
    """Merge one fetch of WINDOW as `smsarchive replay` does."""
    frames = WindowFrames(
        *WINDOW,
        messages if messages is not None else messages_frame(),
        media_frame(),
        rejected if rejected is not None else rejected_frame(),
        0,
        0,
    )
    merge_windows(
        con, provider=PROVIDER, account=ACCOUNT, windows=[frames], seen_at=seen_at, replay=True
    )


def test_a_replay_keeps_listed_a_row_one_fetch_of_a_window_rejects_and_the_other_lacks(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # the window fetched twice: the first answer held an unreadable row, the second (a
    # --refetch, the provider having forgotten that message) does not hold it at all
    bad = rejected_frame(rejected_row('{"id": "1", "date": "garbage"}'))
    later = SEEN + timedelta(days=1)
    merge(con, messages_frame(message("2")), rejected=bad, seen_at=SEEN)
    merge(con, messages_frame(message("2")), seen_at=later)
    # the replay merges each fetch, the earlier first, then ends
    replay(con, messages_frame(message("2")), bad, SEEN)
    replay(con, messages_frame(message("2")), seen_at=later)
    drop_resolved_rejections(con, [(PROVIDER, ACCOUNT, *WINDOW)])
    assert count(con, "rejected_records") == 1  # its landed answer still holds it, unread


def test_a_row_first_read_by_a_replay_ends_its_history_on_its_latest_status(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # a row both fetches had rejected, readable now: the first said Sent, the second Delivered
    later = SEEN + timedelta(days=1)
    sent = message("9", direction="outbound", carrier_status="Sent", status="sent")
    delivered = {**sent, "carrier_status": "Delivered", "status": "delivered"}
    replay(con, messages_frame(sent), seen_at=SEEN)
    replay(con, messages_frame(delivered), seen_at=later)
    replay(con, messages_frame(sent), seen_at=SEEN)  # replayed again: nothing recorded twice
    history = table(con, "carrier_status_history", "seen_at").select("carrier_status", "seen_at")
    assert history.rows() == [("Sent", SEEN), ("Delivered", later)]
    assert table(con, "messages", "message_id")["carrier_status"].to_list() == ["Delivered"]
