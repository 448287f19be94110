"""The media download queue: which attachments to fetch, and recording how it went."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl

from warehouse.batches import MEDIA_KEY, MEDIA_RESULT_COLUMNS, conform, dedupe, registered
from warehouse.queries import query_frame, query_row
from warehouse.transactions import transaction

MAX_MEDIA_ATTEMPTS = 5
"""A failed attachment is retried by every run until it has this many attempts..."""

FAILED_MEDIA_RETRY_AFTER = timedelta(hours=20)
"""...and after that by the first run this long after its last attempt (a nightly sync then
tries it once a night): a media host down for days loses nothing."""


def pending_media(
    con: duckdb.DuckDBPyConnection,
    provider: str | None = None,
    account: str | None = None,
    limit: int | None = None,
    *,
    max_attempts: int = MAX_MEDIA_ATTEMPTS,
    now: datetime | None = None,
) -> pl.DataFrame:
    """Attachments to download: 'pending' ones, and 'failed' ones with attempts < max_attempts
    or whose last attempt ended FAILED_MEDIA_RETRY_AFTER before `now` (default: now).

    Columns: provider, account, message_id, position, url, state, attempts; fewest attempts
    first, then in the order they were first seen.
    """
    now = now if now is not None else datetime.now(UTC)
    return query_frame(
        con,
        "select_pending_media",
        {
            "provider": provider,
            "account": account,
            "limit": limit,
            "max_attempts": max_attempts,
            "retry_before": now - FAILED_MEDIA_RETRY_AFTER,
        },
    )


def record_media_results(
    con: duckdb.DuckDBPyConnection, results: pl.DataFrame, *, refind: bool = True
) -> int:
    """Apply download results in one bulk update; returns the number of media rows changed.

    `results` has the columns of `MEDIA_RESULT_COLUMNS`: the media key, the new state
    ('stored'|'expired'|'failed'|'pending'), sha256, size_bytes, content_type, fetched_at,
    last_error, and optionally attempts (made this round, added to the row's; default 1).
    Last row wins per key. A stored row is only replaced by another 'stored' result. An
    attachment requeued for a lost file (`requeue_missing_media`) keeps its sha256 whatever
    its download gives, and is stored again once another of the same bytes brings the file
    back; `refind=False` skips that check (no attachment keeps such a sha256:
    `has_requeued_media`), which costs a scan of `media`.
    """
    batch = dedupe(
        conform(results, MEDIA_RESULT_COLUMNS, "media results", defaults={"attempts": 1}),
        MEDIA_KEY,
    )
    if batch.height == 0:
        return 0
    with registered(con, {"batch_media_results": batch}), transaction(con):
        row = query_row(con, "update_media_results")
        if refind and (batch.get_column("state") == "stored").any():
            # a file stored now may be one an attachment lost: it is that one's file again
            query_row(con, "store_refound_media")
    return int(row[0]) if row is not None else 0


def stored_media(con: duckdb.DuckDBPyConnection) -> pl.Series:
    """The sha256 of the files attachments recorded as stored name, each once, sorted."""
    return query_frame(con, "select_stored_media").get_column("sha256")


def has_requeued_media(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether an attachment not stored keeps the sha256 of a file gone from the store."""
    row = query_row(con, "find_requeued_media")
    return bool(row and row[0])


def requeue_missing_media(con: duckdb.DuckDBPyConnection, missing: pl.Series) -> int:
    """Make stored attachments whose file is gone (`missing`: their sha256) pending again,
    with last_error 'file_missing'; returns how many rows changed."""
    batch = missing.unique().rename("sha256").to_frame()
    return _update(con, "requeue_missing_media", {"batch_missing_media": batch})


def _update(con: duckdb.DuckDBPyConnection, query: str, batch: dict[str, pl.DataFrame]) -> int:
    """Run the update `query` over the registered `batch` in one transaction; rows changed."""
    if all(frame.height == 0 for frame in batch.values()):
        return 0
    with registered(con, batch), transaction(con):
        row = query_row(con, query)
    return int(row[0]) if row is not None else 0
