"""Merges one window's frames into the archive, with its checkpoint, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from warehouse.batches import (
    MEDIA_COLUMNS,
    MEDIA_KEY,
    MESSAGE_COLUMNS,
    MESSAGE_KEY,
    REJECTED_COLUMNS,
    conform,
    dedupe,
    registered,
    require_account,
)
from warehouse.memory_limit import raise_memory_limit
from warehouse.queries import query_row, read_query


@dataclass(frozen=True)
class MergeResult:
    """What one `merge_window` changed."""

    inserted: int
    updated: int
    status_changes: int
    media_new: int
    rejected_new: int


def merge_window(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    messages: pl.DataFrame,
    media: pl.DataFrame,
    rejected: pl.DataFrame,
    seen_at: datetime,
    sms_rows: int,
    mms_rows: int,
) -> MergeResult:
    """Merge one window's transform output and mark the window done, all or nothing.

    Frames are those of docs/contracts.md; each is deduped on its key first (last row wins).
    - messages: new ones are inserted with first_seen_at = last_seen_at = seen_at and a
      carrier_status_history row. Known ones get last_seen_at moved forward and their
      derived columns (body, status, contact, ... everything but the key and first_seen_at)
      replaced by the batch's, so a transform fix replayed from the landing corrects them;
      a different carrier_status also appends a history row.
    - media: new attachments are inserted as 'pending'. Known ones are left alone, except
      that a not-yet-stored one whose URL changed takes the new URL and fresh attempts.
    - rejected: inserted once each, keyed by a hash of source, record and reason.
    - the window's checkpoint is upserted (see the table's comment for what its counts mean).
    The same call twice changes nothing the second time but last_seen_at (and the
    checkpoint's completed_at and merges). Any error rolls everything back and re-raises;
    DuckDB running out of memory first rolls back, doubles the connection's memory limit
    (up to DuckDB's default) and merges again.
    """
    if seen_at.tzinfo is None:
        raise ValueError("seen_at must be timezone-aware")
    if window_start > window_end:
        raise ValueError(f"window_start {window_start} is after window_end {window_end}")
    batch_messages = dedupe(conform(messages, MESSAGE_COLUMNS, "messages"), MESSAGE_KEY)
    batch_media = dedupe(conform(media, MEDIA_COLUMNS, "media"), MEDIA_KEY)
    batch_rejected = conform(rejected, REJECTED_COLUMNS, "rejected").unique(maintain_order=True)
    for what, frame in (
        ("messages", batch_messages),
        ("media", batch_media),
        ("rejected", batch_rejected),
    ):
        require_account(frame, what, provider, account)

    frames = {
        "batch_messages": batch_messages,
        "batch_media": batch_media,
        "batch_rejected": batch_rejected,
    }
    with registered(con, frames):
        while True:
            con.begin()
            try:
                result = _merge(
                    con,
                    provider=provider,
                    account=account,
                    window_start=window_start,
                    window_end=window_end,
                    seen_at=seen_at,
                    sms_rows=sms_rows,
                    mms_rows=mms_rows,
                    rejected_rows=batch_rejected.height,
                )
                con.commit()
                return result
            except duckdb.OutOfMemoryException:
                con.rollback()
                why = f"merging {batch_messages.height:,} messages of {window_start}..{window_end}"
                if not raise_memory_limit(con, why):
                    raise
            except BaseException:
                con.rollback()
                raise


def _merge(
    con: duckdb.DuckDBPyConnection,
    *,
    provider: str,
    account: str,
    window_start: date,
    window_end: date,
    seen_at: datetime,
    sms_rows: int,
    mms_rows: int,
    rejected_rows: int,
) -> MergeResult:
    row = query_row(con, "count_merge_changes")
    assert row is not None
    result = MergeResult(*(int(value) for value in row))
    seen = {"seen_at": seen_at}
    # history first: it compares the batch with the messages as they were
    con.execute(read_query("insert_status_history"), seen)
    con.execute(read_query("merge_messages"), seen)
    con.execute(read_query("merge_media"), seen)
    con.execute(
        read_query("insert_rejected_records"),
        {"window_start": window_start, "window_end": window_end, "seen_at": seen_at},
    )
    con.execute(
        read_query("upsert_window_checkpoint"),
        {
            "provider": provider,
            "account": account,
            "window_start": window_start,
            "window_end": window_end,
            "completed_at": seen_at,
            "sms_rows": sms_rows,
            "mms_rows": mms_rows,
            "messages_inserted": result.inserted,
            "messages_updated": result.updated,
            "rejected": rejected_rows,
        },
    )
    return result
