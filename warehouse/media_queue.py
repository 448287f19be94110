"""The media download queue: which attachments to fetch, and recording how it went."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.batches import MEDIA_KEY, MEDIA_RESULT_COLUMNS, conform, dedupe, registered
from warehouse.queries import query_frame, query_row

MAX_MEDIA_ATTEMPTS = 5
"""A failed attachment is retried until it has this many attempts."""


def pending_media(
    con: duckdb.DuckDBPyConnection,
    provider: str | None = None,
    account: str | None = None,
    limit: int | None = None,
    *,
    max_attempts: int = MAX_MEDIA_ATTEMPTS,
) -> pl.DataFrame:
    """Attachments to download: 'pending' ones and 'failed' ones with attempts < max_attempts.

    Columns: provider, account, message_id, position, url, state, attempts; fewest attempts
    first, then in the order they were first seen.
    """
    return query_frame(
        con,
        "select_pending_media",
        {
            "provider": provider,
            "account": account,
            "limit": limit,
            "max_attempts": max_attempts,
        },
    )


def record_media_results(con: duckdb.DuckDBPyConnection, results: pl.DataFrame) -> int:
    """Apply download results in one bulk update; returns the number of media rows changed.

    `results` has the columns of `MEDIA_RESULT_COLUMNS`: the media key, the new state
    ('stored'|'expired'|'failed'|'pending'), sha256, size_bytes, content_type, fetched_at,
    last_error, and optionally attempts (made this round, added to the row's; default 1).
    Last row wins per key. A stored row is only replaced by another 'stored' result.
    """
    batch = dedupe(
        conform(results, MEDIA_RESULT_COLUMNS, "media results", defaults={"attempts": 1}),
        MEDIA_KEY,
    )
    if batch.height == 0:
        return 0
    with registered(con, {"batch_media_results": batch}):
        con.begin()
        try:
            row = query_row(con, "update_media_results")
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return int(row[0]) if row is not None else 0
