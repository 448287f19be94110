"""The media queue: what pending_media hands out and how record_media_results applies results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest

from tests.warehouse.builders import (
    ACCOUNT,
    PROVIDER,
    SEEN,
    WINDOW,
    media_frame,
    media_item,
    media_result,
    media_results_frame,
    messages_frame,
    rejected_frame,
)
from warehouse import (
    MAX_MEDIA_ATTEMPTS,
    has_requeued_media,
    merge_window,
    pending_media,
    record_media_results,
    requeue_missing_media,
)
from warehouse.media_queue import FAILED_MEDIA_RETRY_AFTER


def add_media(
    con: duckdb.DuckDBPyConnection, *items: dict[str, object], account: str = ACCOUNT
) -> None:
    merge_window(
        con,
        provider=PROVIDER,
        account=account,
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        messages=messages_frame(),
        media=media_frame(*items),
        rejected=rejected_frame(),
        seen_at=SEEN,
        sms_rows=0,
        mms_rows=0,
    )


def media_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT message_id, position, state, sha256, size_bytes, attempts, last_error "
        "FROM media ORDER BY message_id, position"
    ).fetchall()


def test_pending_media_lists_what_is_left_to_fetch(con: duckdb.DuckDBPyConnection) -> None:
    add_media(con, *(media_item("1", n) for n in range(1, 6)))
    add_media(con, media_item("9", 1, account="acct-2"), account="acct-2")
    con.execute(
        "UPDATE media SET state = 'stored', sha256 = 'x' WHERE message_id = '1' AND position = 1"
    )
    con.execute("UPDATE media SET state = 'expired' WHERE position = 2")
    con.execute("UPDATE media SET state = 'failed', attempts = 2 WHERE position = 3")
    con.execute(
        "UPDATE media SET state = 'failed', attempts = ? WHERE position = 4", [MAX_MEDIA_ATTEMPTS]
    )

    queue = pending_media(con)
    assert queue.columns == [
        "provider",
        "account",
        "message_id",
        "position",
        "url",
        "state",
        "attempts",
    ]
    assert queue.select("account", "message_id", "position", "state").rows() == [
        (ACCOUNT, "1", 5, "pending"),  # fewest attempts first
        ("acct-2", "9", 1, "pending"),
        (ACCOUNT, "1", 3, "failed"),
    ]
    assert pending_media(con, PROVIDER, "acct-2")["message_id"].to_list() == ["9"]
    assert pending_media(con, account=ACCOUNT).height == 2
    assert pending_media(con, provider="other").height == 0
    assert pending_media(con, limit=1).height == 1
    assert pending_media(con, max_attempts=2)["state"].to_list() == ["pending", "pending"]


def test_failed_media_out_of_attempts_are_retried_a_day_later(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # two runs during a media host outage: 4 attempts each, past MAX_MEDIA_ATTEMPTS
    add_media(con, media_item("1", 1))
    last_try = datetime(2024, 4, 2, 3, 0, tzinfo=UTC)
    con.execute(
        "UPDATE media SET state = 'failed', attempts = 8, fetched_at = ?, "
        "last_error = 'connection_error'",
        [last_try],
    )
    assert pending_media(con, now=last_try + timedelta(hours=1)).height == 0
    retried = pending_media(con, now=last_try + FAILED_MEDIA_RETRY_AFTER + timedelta(seconds=1))
    assert retried.select("message_id", "position", "attempts").rows() == [("1", 1, 8)]


def test_results_update_the_rows_in_bulk(con: duckdb.DuckDBPyConnection) -> None:
    add_media(con, media_item("1", 1), media_item("1", 2), media_item("1", 3))
    fetched = datetime(2024, 4, 2, 8, 30, tzinfo=UTC)

    changed = record_media_results(
        con,
        media_results_frame(
            media_result(
                "1",
                1,
                "stored",
                sha256="ab" * 32,
                size_bytes=2048,
                content_type="image/jpeg",
                fetched_at=fetched,
            ),
            media_result("1", 2, "failed", last_error="HTTP 503"),
            media_result("1", 3, "expired", last_error="HTTP 404"),
            media_result("404", 1, "stored", sha256="cd" * 32),  # no such row: ignored
        ),
    )

    assert changed == 3
    assert media_rows(con) == [
        ("1", 1, "stored", "ab" * 32, 2048, 1, None),
        ("1", 2, "failed", None, None, 1, "HTTP 503"),
        ("1", 3, "expired", None, None, 1, "HTTP 404"),
    ]
    ((stored_at,),) = con.execute(
        "SELECT fetched_at FROM media WHERE message_id = '1' AND position = 1"
    ).fetchall()
    assert stored_at == fetched

    # a retry adds its attempts; an explicit attempts column says how many were made
    retry = media_results_frame(media_result("1", 2, "failed", last_error="timeout")).with_columns(
        attempts=pl.lit(3, pl.Int32)
    )
    record_media_results(con, retry)
    assert media_rows(con)[1] == ("1", 2, "failed", None, None, 4, "timeout")


def test_a_stored_file_is_never_downgraded(con: duckdb.DuckDBPyConnection) -> None:
    add_media(con, media_item("1", 1))
    record_media_results(
        con, media_results_frame(media_result("1", 1, "stored", sha256="ab" * 32, size_bytes=5))
    )
    assert record_media_results(con, media_results_frame(media_result("1", 1, "failed"))) == 0
    assert media_rows(con) == [("1", 1, "stored", "ab" * 32, 5, 1, None)]


SHARED = "ab" * 32


def _one_file_lost_by_three_attachments(con: duckdb.DuckDBPyConnection) -> None:
    """Three attachments of the same bytes, stored, then their one file gone from the store."""
    add_media(con, media_item("1", 1), media_item("2", 1), media_item("3", 1))
    assert not has_requeued_media(con)  # pending, but never stored
    stored = [
        media_result(m, 1, "stored", sha256=SHARED, size_bytes=5, content_type="image/png")
        for m in ("1", "2", "3")
    ]
    record_media_results(con, media_results_frame(*stored))
    assert requeue_missing_media(con, pl.Series([SHARED])) == 3
    assert has_requeued_media(con)


def test_a_requeued_attachment_whose_url_is_gone_keeps_the_file_another_brought_back(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _one_file_lost_by_three_attachments(con)
    # message 1's URL still serves the file; 2's is expired at the provider, 3's fails
    back = media_result("1", 1, "stored", sha256=SHARED, size_bytes=5, content_type="image/png")
    record_media_results(
        con,
        media_results_frame(
            media_result("2", 1, "expired"), back, media_result("3", 1, "failed", last_error="x")
        ),
    )
    assert media_rows(con) == [
        ("1", 1, "stored", SHARED, 5, 2, None),
        ("2", 1, "stored", SHARED, 5, 2, None),
        ("3", 1, "stored", SHARED, 5, 2, None),
    ]
    assert not has_requeued_media(con)


def test_a_requeued_attachment_refinds_its_file_whichever_batch_brings_it_back(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _one_file_lost_by_three_attachments(con)
    # 2's link answers first: expired, and 3's fails; both keep the sha256 of the file lost
    record_media_results(con, media_results_frame(media_result("2", 1, "expired")))
    record_media_results(con, media_results_frame(media_result("3", 1, "failed", last_error="x")))
    assert media_rows(con)[1:] == [
        ("2", 1, "expired", SHARED, None, 2, None),
        ("3", 1, "failed", SHARED, None, 2, "x"),
    ]
    assert has_requeued_media(con)
    # a later batch brings the file back: theirs again, with its size
    back = media_result("1", 1, "stored", sha256=SHARED, size_bytes=5, content_type="image/png")
    record_media_results(con, media_results_frame(back))
    assert media_rows(con) == [
        ("1", 1, "stored", SHARED, 5, 2, None),
        ("2", 1, "stored", SHARED, 5, 2, None),
        ("3", 1, "stored", SHARED, 5, 2, None),
    ]
    assert not has_requeued_media(con)
    # with no file of its bytes ever stored, the provider's answer stands
    add_media(con, media_item("4", 1))
    record_media_results(con, media_results_frame(media_result("4", 1, "expired")))
    assert media_rows(con)[3] == ("4", 1, "expired", None, None, 1, None)


def test_a_requeued_attachment_not_yet_tried_is_stored_once_its_twin_brings_the_file(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _one_file_lost_by_three_attachments(con)
    back = media_result("1", 1, "stored", sha256=SHARED, size_bytes=5, content_type="image/png")
    record_media_results(con, media_results_frame(back))
    assert media_rows(con)[1] == ("2", 1, "stored", SHARED, 5, 1, None)  # no download needed
    # its own download, already under way, changes nothing then
    assert record_media_results(con, media_results_frame(media_result("2", 1, "expired"))) == 0


def test_a_bad_result_rolls_back_the_whole_batch(con: duckdb.DuckDBPyConnection) -> None:
    add_media(con, media_item("1", 1), media_item("1", 2))
    before = media_rows(con)
    with pytest.raises(duckdb.ConstraintException):
        record_media_results(
            con,
            media_results_frame(
                media_result("1", 1, "failed", last_error="HTTP 500"),
                media_result("1", 2, "stored"),  # stored without a sha256
            ),
        )
    assert media_rows(con) == before


def test_duplicate_results_keep_the_last(con: duckdb.DuckDBPyConnection) -> None:
    add_media(con, media_item("1", 1))
    record_media_results(
        con,
        media_results_frame(
            media_result("1", 1, "failed", last_error="first"),
            media_result("1", 1, "stored", sha256="ef" * 32, size_bytes=1),
        ),
    )
    assert media_rows(con) == [("1", 1, "stored", "ef" * 32, 1, 1, None)]
    assert record_media_results(con, media_results_frame()) == 0


def test_the_retry_rules_are_the_ones_the_readme_gives() -> None:
    """README: a failed file is tried again by later runs until it has had 5 tries, then
    20 hours after its last one."""
    assert MAX_MEDIA_ATTEMPTS == 5
    assert timedelta(hours=20) == FAILED_MEDIA_RETRY_AFTER
